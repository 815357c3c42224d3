"""Names people read, Vietnamese first with English beside it."""

from __future__ import annotations

from workflows.model import Channel, Direction, Stage, StageState, Status

STAGE_LABELS: dict[Stage, tuple[str, str]] = {
    Stage.YARD: ("Bãi kiểm soát", "Yard"),
    Stage.CUSTOMS: ("Hải quan", "Customs"),
    Stage.PLANT_QUARANTINE: ("Kiểm dịch thực vật", "Plant quarantine"),
    Stage.ANIMAL_QUARANTINE: ("Kiểm dịch động vật", "Animal quarantine"),
    Stage.HEALTH_QUARANTINE: ("Kiểm dịch y tế", "Health quarantine"),
    Stage.BORDER_GUARD: ("Biên phòng", "Border guard"),
}

STAGE_STATE_LABELS: dict[StageState, tuple[str, str]] = {
    StageState.NOT_REQUIRED: ("Không yêu cầu", "Not required"),
    StageState.PENDING: ("Chưa đến lượt", "Pending"),
    StageState.IN_REVIEW: ("Đang xử lý", "In review"),
    StageState.APPROVED: ("Đã chấp thuận", "Approved"),
    StageState.REJECTED: ("Từ chối", "Rejected"),
    StageState.ON_HOLD: ("Tạm dừng", "On hold"),
    StageState.AMENDMENT_REQUESTED: ("Yêu cầu bổ sung", "Amendment requested"),
}

STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.DRAFT: ("Bản nháp", "Draft"),
    Status.SUBMITTED: ("Đã nộp, đang sàng lọc", "Submitted, screening"),
    Status.AWAITING_ARRIVAL: ("Chờ xe đến", "Awaiting arrival"),
    Status.IN_YARD: ("Trong bãi", "In yard"),
    Status.CLEARED: ("Đã thông quan", "Cleared"),
    Status.DEPARTED: ("Đã qua cửa khẩu", "Departed"),
    Status.AMENDMENT_REQUESTED: ("Yêu cầu bổ sung", "Amendment requested"),
    Status.ON_HOLD: ("Tạm dừng", "On hold"),
    Status.REJECTED: ("Bị từ chối", "Rejected"),
    Status.CANCELLED: ("Đã huỷ", "Cancelled"),
}

CHANNEL_LABELS: dict[Channel, tuple[str, str]] = {
    Channel.GREEN: ("Luồng xanh", "Green channel"),
    Channel.YELLOW: ("Luồng vàng", "Yellow channel"),
    Channel.RED: ("Luồng đỏ", "Red channel"),
}

DIRECTION_LABELS: dict[Direction, tuple[str, str]] = {
    Direction.EXPORT: ("Xuất khẩu", "Export"),
    Direction.IMPORT: ("Nhập khẩu", "Import"),
}


def stage_vi(stage: Stage) -> str:
    return STAGE_LABELS[stage][0].lower()


def stage_en(stage: Stage) -> str:
    return STAGE_LABELS[stage][1].lower()
