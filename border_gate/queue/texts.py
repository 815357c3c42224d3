"""The queue's words on pages and in the timeline, Vietnamese first (merged by web/i18n.py)."""

from __future__ import annotations

QUEUE_ACTION_LABELS: dict[str, tuple[str, str]] = {
    "book_slot": ("Đặt lịch đến", "Slot booked"),
    "cancel_booking": ("Huỷ lịch đến", "Booking cancelled"),
    "arrive_waiting_area": ("Xe vào khu chờ", "Arrived at the waiting area"),
    "queue_position": ("Cập nhật vị trí hàng chờ", "Queue position updated"),
    "call_forward": ("Gọi xe vào cửa khẩu", "Called forward"),
}

QUEUE_TEXTS: dict[str, tuple[str, str]] = {
    "nav.waiting_area": ("Khu chờ", "Waiting area"),
    "nav.quota": ("Hạn ngạch phía bên kia", "Far-side quota"),
    "wa.title": ("Khu chờ — hàng chờ điện tử", "Waiting area — electronic queue"),
    "wa.check_in": ("Ghi xe vào khu chờ", "Check a truck in"),
    "wa.plate": ("Biển số xe", "Vehicle plate"),
    "wa.refresh": ("Tính lại và gọi xe", "Recompute and call trucks"),
    "wa.called": ("Đã gọi vào, chờ qua cổng bãi", "Called, on the way to the yard gate"),
    "wa.line": ("Thứ tự gọi tiếp theo", "Next to be called"),
    "wa.empty": ("Không có xe nào trong khu chờ", "No truck in the waiting area"),
    "wa.position": ("Thứ tự", "Place"),
    "wa.lane": ("Lý do thứ tự (làn)", "Why this place (lane)"),
    "wa.waiting_since": ("Vào khu chờ", "Waiting since"),
    "wa.expected_call": ("Dự kiến gọi", "Expected call"),
    "wa.expected_crossing": ("Dự kiến qua cửa khẩu", "Expected crossing"),
    "wa.released": ("Đã gọi hôm nay / được phép đến giờ này", "Called today / released so far"),
    "wa.done": ("Đã ghi xe vào khu chờ", "Checked in at the waiting area"),
    "quota.title": ("Hạn ngạch phía bên kia", "The far side's quota"),
    "quota.day": ("Ngày", "Day"),
    "quota.direction": ("Hướng", "Direction"),
    "quota.value": ("Số xe / ngày", "Trucks per day"),
    "quota.default": ("Mặc định", "Default"),
    "quota.reason": ("Lý do", "Reason"),
    "quota.set_by": ("Người thay đổi", "Changed by"),
    "quota.save": ("Lưu hạn ngạch", "Save the quota"),
    "quota.done": (
        "Đã lưu hạn ngạch; hàng chờ đã tính lại",
        "Quota saved; the queue was recomputed",
    ),
    "booking.title": ("Lịch đến và hàng chờ", "Arrival slot and queue"),
    "booking.slot": ("Khung giờ đã đặt", "Booked slot"),
    "booking.none": ("Chưa đặt lịch", "No slot booked"),
    "booking.choose": ("Chọn khung giờ", "Choose a slot"),
    "booking.book": ("Đặt / đổi lịch", "Book / rebook"),
    "booking.cancel": ("Huỷ lịch", "Cancel the booking"),
    "booking.position": ("Vị trí trong hàng chờ", "Place in the queue"),
    "booking.called": ("Đã được gọi vào", "Called forward"),
    "booking.free": ("còn {n} chỗ", "{n} free"),
    "booking.done": ("Đã cập nhật lịch đến", "Booking updated"),
}
