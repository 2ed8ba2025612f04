"""The resources table (可用资源): police, 群防群治 forces, social organisations, mediators.

Sized like a real county register: ~1,340 police elements, ~1,160 mass
prevention entries, ~330 social organisations, ~600 mediators.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import names
from .common import DAY_S, END_S, Frame, floats, ts
from .geography import County
from .lookup import sample_in_villages, sample_near

N_PATROL, N_OFFICER, N_AUXILIARY = 120, 700, 480
N_MASS_INDIVIDUAL, N_SOCIAL_ORG, N_MEDIATOR = 858, 330, 600
EQUIPMENT = ("警用无人机", "移动指挥车", "冲锋舟", "警用摩托车", "应急照明车", "警犬")
SOCIAL_ORGS = ("蓝天救援队", "志愿者协会", "老年协会", "乡贤理事会", "青年志愿服务队", "社工站",
               "妇女互助会", "红白理事会", "心理咨询服务站", "商会", "爱心协会", "禁毒志愿服务队")
AVAILABLE_P = 0.85


@dataclass
class _Rows:
    cols: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, **arrays: np.ndarray) -> None:
        for k, v in arrays.items():
            self.cols.setdefault(k, []).append(np.asarray(v))

    def merged(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.cols.items()}


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _updated(rng: np.random.Generator, n: int, max_days: float) -> np.ndarray:
    return END_S - (rng.uniform(0.02, max_days, n) * DAY_S).astype(np.int64)


def _stations(rng: np.random.Generator, county: County) -> tuple[list[str], np.ndarray,
                                                                np.ndarray]:
    """Four stations in the seat, one in every other town: names, centres (m), weights."""
    seat = county.town_centre_m[0]
    sn = ["城关派出所", "城东派出所", "城西派出所", "城南派出所"]
    offs = np.array([[0, 0], [1_800, 200], [-1_800, -100], [200, -1_700]], dtype=np.float64)
    centres = [seat + offs + rng.normal(0, 150, offs.shape)]
    for t in range(1, len(county.town_names)):
        sn.append(names.town_stem(county.town_names[t]) + "派出所")
    centres.append(county.town_centre_m[1:] + rng.normal(0, 150, (len(sn) - 4, 2)))
    weight = np.r_[np.full(4, 3.0), county.town_pop[1:] / county.town_pop[1:].mean()]
    return sn, np.vstack(centres), weight


def resource_columns(rng: np.random.Generator, county: County, frame: Frame
                     ) -> dict[str, np.ndarray]:
    rows = _Rows()
    idx = county.index
    sname, sc, sw = _stations(rng, county)
    ns = len(sname)
    lon, lat, vil = sample_near(rng, idx, sc[:, 0], sc[:, 1], 1.0)
    rows.add(resource_id=_ids("PS", ns, 2), kind=np.full(ns, "police_station", object),
             name=np.array(sname, object), lon=lon, lat=lat, vil=vil,
             headcount=rng.integers(25, 90, ns), phone=names.landlines(rng, ns),
             available=np.ones(ns, bool), updated=_updated(rng, ns, 365))

    p = sw / sw.sum()
    st = rng.choice(ns, size=N_PATROL, p=p)
    h = rng.choice(len(county.hotspot_weight), size=N_PATROL,
                   p=county.hotspot_weight / county.hotspot_weight.sum())
    on_hot = rng.random(N_PATROL) < 0.5  # half out on patrol in a hotspot, half near base
    cx = np.where(on_hot, county.hotspot_m[h, 0], sc[st, 0])
    cy = np.where(on_hot, county.hotspot_m[h, 1], sc[st, 1])
    lon, lat, vil = sample_near(rng, idx, cx, cy, 800.0)
    unit_no = np.array([sum(st[:i] == st[i]) + 1 for i in range(N_PATROL)])
    pname = np.array([f"{sname[s].removesuffix('派出所')}巡逻{k}组"
                      for s, k in zip(st, unit_no, strict=True)],
                     dtype=object)
    rows.add(resource_id=_ids("PU", N_PATROL, 3), kind=np.full(N_PATROL, "patrol_unit", object),
             name=pname, lon=lon, lat=lat, vil=vil, headcount=rng.integers(2, 7, N_PATROL),
             phone=names.mobiles(rng, N_PATROL), available=rng.random(N_PATROL) < AVAILABLE_P,
             updated=_updated(rng, N_PATROL, 2))

    for kind, prefix, n, sigma in (("officer", "OF", N_OFFICER, 700.0),
                                   ("auxiliary", "AX", N_AUXILIARY, 900.0)):
        st = rng.choice(ns, size=n, p=p)
        lon, lat, vil = sample_near(rng, idx, sc[st, 0], sc[st, 1], sigma)
        rows.add(resource_id=_ids(prefix, n, 4), kind=np.full(n, kind, object),
                 name=names.people(rng, n), lon=lon, lat=lat, vil=vil,
                 headcount=np.ones(n, np.int64), phone=names.mobiles(rng, n),
                 available=rng.random(n) < AVAILABLE_P, updated=_updated(rng, n, 7))

    ne = 20
    st = rng.choice(ns, size=ne, p=p)
    lon, lat, vil = sample_near(rng, idx, sc[st, 0], sc[st, 1], 30.0)
    kinds = np.array(EQUIPMENT, dtype=object)[np.arange(ne) % len(EQUIPMENT)]
    ename = np.array([f"{sname[s].removesuffix('派出所')}{k}{i + 1:02d}"
                      for i, (s, k) in enumerate(zip(st, kinds, strict=True))], dtype=object)
    rows.add(resource_id=_ids("EQ", ne, 2), kind=np.full(ne, "equipment", object), name=ename,
             lon=lon, lat=lat, vil=vil, headcount=np.full(ne, -1), phone=np.full(ne, None),
             available=rng.random(ne) < AVAILABLE_P, updated=_updated(rng, ne, 30))

    _civil(rng, county, rows)
    cols = rows.merged()
    out_lon, out_lat = frame.points(cols["lon"], cols["lat"])
    hc = cols["headcount"].astype(np.int64)
    return {
        "resource_id": cols["resource_id"], "kind": cols["kind"], "name": cols["name"],
        "lon": floats(out_lon), "lat": floats(out_lat),
        "area_id": np.array(county.village_ids, dtype=object)[cols["vil"]],
        "headcount": np.where(hc >= 0, hc, None), "phone": cols["phone"],
        "available": cols["available"].astype(bool), "updated_at": ts(cols["updated"]),
    }


def _civil(rng: np.random.Generator, county: County, rows: _Rows) -> None:
    """群防群治 teams and volunteers, social organisations and mediators, in the villages."""
    nv = len(county.village_ids)
    pop = county.village_pop / county.village_pop.sum()
    disp = county.village_display
    vnames = county.village_names
    team = np.arange(nv)
    n_team, n_town = nv, len(county.town_names)
    ind = rng.choice(nv, size=N_MASS_INDIVIDUAL, p=pop)
    vil = np.r_[team, ind]
    lon, lat = sample_in_villages(rng, county.index, vil)
    tname = [("巡防队" if county.village_urban[v] else "护村队") for v in team]
    mass_names = [disp[v] + t for v, t in zip(team, tname, strict=True)]
    mass_names += list(names.people(rng, len(ind)))
    n_mp = len(vil)
    heads = np.r_[rng.integers(6, 21, n_team), np.ones(len(ind), np.int64)]
    rows.add(resource_id=_ids("MP", n_mp, 4), kind=np.full(n_mp, "mass_prevention", object),
             name=np.array(mass_names, object), lon=lon, lat=lat, vil=vil, headcount=heads,
             phone=names.mobiles(rng, n_mp), available=rng.random(n_mp) < AVAILABLE_P,
             updated=_updated(rng, n_mp, 90))

    seen: set[str] = set()
    org_names, org_vil = [], []
    while len(org_names) < N_SOCIAL_ORG:
        v = int(rng.choice(nv, p=pop))
        org = SOCIAL_ORGS[int(rng.integers(len(SOCIAL_ORGS)))]
        # Rescue teams and chambers of commerce belong to towns, the rest to villages.
        town = county.town_names[county.village_town[v]]
        nm = (town + org) if org in ("蓝天救援队", "商会", "社工站", "青年志愿服务队") else (
            town + vnames[v] + org)
        if nm not in seen:
            seen.add(nm)
            org_names.append(nm)
            org_vil.append(v)
    ov = np.array(org_vil)
    lon, lat = sample_in_villages(rng, county.index, ov)
    rows.add(resource_id=_ids("SO", N_SOCIAL_ORG, 3), kind=np.full(N_SOCIAL_ORG, "social_org",
                                                                   object),
             name=np.array(org_names, object), lon=lon, lat=lat, vil=ov,
             headcount=rng.integers(5, 81, N_SOCIAL_ORG),
             phone=names.mobiles(rng, N_SOCIAL_ORG),
             available=rng.random(N_SOCIAL_ORG) < AVAILABLE_P,
             updated=_updated(rng, N_SOCIAL_ORG, 180))

    centre = [int(np.flatnonzero((county.village_town == t) & county.village_urban)[0])
              for t in range(n_town)]
    mv = np.r_[np.array(centre), rng.choice(nv, size=N_MEDIATOR - n_town, p=pop)]
    lon, lat = sample_in_villages(rng, county.index, mv)
    mnames = [t + "人民调解委员会" for t in county.town_names] + list(
        names.people(rng, N_MEDIATOR - n_town))
    rows.add(resource_id=_ids("MD", N_MEDIATOR, 3), kind=np.full(N_MEDIATOR, "mediator", object),
             name=np.array(mnames, object), lon=lon, lat=lat, vil=mv,
             headcount=np.r_[rng.integers(5, 12, n_town), np.ones(N_MEDIATOR - n_town, np.int64)],
             phone=names.mobiles(rng, N_MEDIATOR),
             available=rng.random(N_MEDIATOR) < AVAILABLE_P, updated=_updated(rng, N_MEDIATOR, 60))
