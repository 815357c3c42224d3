"""What the simulated traffic looks like: firms, cargo, plates, drivers, arrival times.

Pure and seeded: the same seed gives the same trucks. The figures are assumptions for a
demo and for load, stated in docs/simulation.md, not statistics of Lạng Sơn.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from workflows.model import Direction

# (HS code, Vietnamese description, share within the direction, typical kg, USD per kg)
EXPORT_CARGO = [
    ("081060", "Sầu riêng tươi", 0.25, 18_000, 2.6),
    ("081090", "Thanh long ruột đỏ", 0.20, 20_000, 1.8),
    ("081090", "Mít Thái tươi", 0.10, 20_000, 1.5),
    ("080450", "Xoài cát Hòa Lộc", 0.10, 18_000, 1.1),
    ("071410", "Sắn lát khô", 0.20, 30_000, 0.3),
    ("030617", "Tôm thẻ chân trắng đông lạnh", 0.15, 15_000, 8.5),
]
IMPORT_CARGO = [
    ("847989", "Máy móc, thiết bị công nghiệp", 0.25, 9_000, 20.0),
    ("851762", "Thiết bị mạng viễn thông", 0.20, 4_000, 110.0),
    ("540752", "Vải sợi filament tổng hợp", 0.20, 18_000, 5.2),
    ("310520", "Phân bón NPK", 0.15, 30_000, 0.45),
    ("080810", "Táo tươi", 0.12, 20_000, 1.2),
    ("080610", "Nho tươi", 0.08, 16_000, 2.1),
]

VN_PROVINCES = ["12C", "14C", "29H", "51C", "20C", "34C", "98C", "15C"]
CN_PREFIXES = ["桂A", "桂F", "桂K", "粤B", "桂B"]
VN_DRIVERS = [
    "Nguyễn Văn Đức",
    "Trần Văn Hùng",
    "Lê Minh Tuấn",
    "Phạm Quốc Bảo",
    "Hoàng Văn Long",
    "Vũ Đình Nam",
    "Đặng Văn Khoa",
    "Bùi Thanh Sơn",
    "Đỗ Mạnh Cường",
    "Ngô Văn Thắng",
]
CN_DRIVERS = ["Wang Wei", "Li Qiang", "Zhang Lei", "Liu Yang", "Chen Jun", "Huang Bo", "Zhao Gang"]
VN_FIRMS = [
    "Công ty TNHH Nông sản Đồng Đăng",
    "Công ty CP Xuất nhập khẩu Kỳ Lừa",
    "Công ty TNHH Trái cây Miền Tây",
    "Công ty CP Thủy sản Hạ Long",
    "Công ty TNHH Sắn Tây Ninh",
    "Công ty CP Logistics Lạng Sơn",
    "Công ty TNHH Thương mại Tân Thanh",
    "Công ty CP Máy móc Bắc Việt",
    "Công ty TNHH Phân bón Hữu Nghị",
    "Công ty TNHH Dệt may Hà Nội",
    "Công ty CP Điện tử Đông Dương",
    "Công ty TNHH Hoa quả Sơn La",
]
CN_PARTIES = [
    "Pingxiang Fruit Trading Co.",
    "Guangxi Dongxing Import Co.",
    "Nanning Agricultural Products Ltd.",
    "Pingxiang Machinery Export Co.",
    "Shenzhen Network Equipment Ltd.",
    "Guangzhou Textile Co.",
    "Yunnan Fertiliser Group",
    "Shandong Apple Export Co.",
]


@dataclass(frozen=True)
class SimFirm:
    code: str
    name: str
    weight: float  # share of the traffic: a few big firms, many small ones
    exports: bool


@dataclass(frozen=True)
class SimTruck:
    index: int
    firm: SimFirm
    direction: Direction
    arrival: datetime  # at the gate
    filing: datetime  # when the firm files and submits
    body: dict[str, Any] = field(repr=False)

    @property
    def plate(self) -> str:
        return str(self.body["vehicle"]["plate"])


def firms(count: int = 12) -> list[SimFirm]:
    """Firms of different sizes (Zipf-like weights), most exporting, some importing."""
    result = []
    for i in range(count):
        result.append(
            SimFirm(
                code=f"SIM_DN{i + 1:02d}",
                name=VN_FIRMS[i % len(VN_FIRMS)],
                weight=1.0 / (i + 1),
                exports=i % 3 != 2,
            )
        )
    return result


def _pick(
    rng: random.Random, table: list[tuple[str, str, float, int, float]]
) -> tuple[str, str, float, int, float]:
    return rng.choices(table, weights=[row[2] for row in table])[0]


def _plate(rng: random.Random, chinese: bool, used: set[str]) -> tuple[str, str]:
    while True:
        if chinese:
            plate = f"{rng.choice(CN_PREFIXES)}·{rng.randint(10000, 99999)}"
            country = "CN"
        else:
            number = rng.randint(10000, 99999)
            plate = f"{rng.choice(VN_PROVINCES)}-{number // 100:03d}.{number % 100:02d}"
            country = "VN"
        if plate not in used:
            used.add(plate)
            return plate, country


def arrival_times(rng: random.Random, count: int, start: datetime, hours: float) -> list[datetime]:
    """`count` arrivals over `hours`, denser in the late morning and mid-afternoon."""

    def density(fraction: float) -> float:
        return 1.0 + 0.6 * math.sin(2 * math.pi * fraction * 2 - math.pi / 2) ** 2

    times: list[datetime] = []
    while len(times) < count:
        fraction = rng.random()
        if rng.random() * 1.6 <= density(fraction):
            times.append(start + timedelta(hours=hours * fraction))
    return sorted(times)


def trucks(
    seed: int,
    count: int,
    *,
    gate: str,
    start: datetime,
    hours: float,
    firm_list: list[SimFirm],
    export_share: float = 0.65,
) -> list[SimTruck]:
    """The day's trucks: cargo, plates, drivers, arrival and filing times."""
    rng = random.Random(seed)
    used: set[str] = set()
    exporters = [f for f in firm_list if f.exports] or firm_list
    importers = [f for f in firm_list if not f.exports] or firm_list
    result = []
    for index, arrival in enumerate(arrival_times(rng, count, start, hours)):
        exporting = rng.random() < export_share
        direction = Direction.EXPORT if exporting else Direction.IMPORT
        pool = exporters if exporting else importers
        firm = rng.choices(pool, weights=[f.weight for f in pool])[0]
        hs_code, description, _share, kg, usd_per_kg = _pick(
            rng, EXPORT_CARGO if exporting else IMPORT_CARGO
        )
        weight = round(kg * rng.uniform(0.7, 1.1))
        value = round(weight * usd_per_kg * rng.lognormvariate(0, 0.25), 2)
        chinese = rng.random() < (0.2 if exporting else 0.7)
        plate, country = _plate(rng, chinese, used)
        driver_name = rng.choice(CN_DRIVERS if chinese else VN_DRIVERS)
        expiry = (arrival + timedelta(days=rng.choice([20, 200, 400, 900]))).date().isoformat()
        body = {
            "direction": direction.value,
            "gate": gate,
            "vehicle": {"plate": plate, "trailer_plate": None, "country": country},
            "driver": {
                "name": driver_name,
                "document_number": f"{'E' if chinese else 'C'}{rng.randint(1000000, 9999999)}",
                "nationality": country,
                "document_expiry": expiry,
            },
            "cargo": [
                {
                    "hs_code": hs_code,
                    "description": description,
                    "gross_weight_kg": weight,
                    "packages": max(1, weight // 20),
                    "value": value,
                    "currency": "USD",
                    "origin_country": "VN" if exporting else "CN",
                }
            ],
            "consignor": firm.name if exporting else rng.choice(CN_PARTIES),
            "consignee": rng.choice(CN_PARTIES) if exporting else firm.name,
            "planned_arrival": arrival.isoformat(),
        }
        filing = max(start, arrival - timedelta(minutes=rng.uniform(60, 360)))
        result.append(
            SimTruck(
                index=index,
                firm=firm,
                direction=direction,
                arrival=arrival,
                filing=filing,
                body=body,
            )
        )
    return result
