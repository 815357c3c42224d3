"""Words on the pages in Vietnamese and English, and which language a visitor reads."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from border_gate.queue.texts import QUEUE_ACTION_LABELS, QUEUE_TEXTS
from workflows.labels import STAGE_LABELS
from workflows.model import Stage
from workflows.roles import Role

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_COOKIE = "bg_lang"

Pair = tuple[str, str]


def language_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The visitor's language from the cookie the switch sets; Vietnamese otherwise."""
    chosen = connection.cookies.get(LANGUAGE_COOKIE, DEFAULT_LANGUAGE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def pick(pair: Pair, lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def text(key: str, lang: str) -> str:
    """The page text for `key`; an unknown key shows itself so a gap is visible, not fatal."""
    pair = TEXTS.get(key)
    return pick(pair, lang) if pair else key


ROLE_LABELS: dict[Role, Pair] = {
    Role.FIRM_USER: ("Doanh nghiệp", "Firm"),
    Role.CUSTOMS_OFFICER: ("Cán bộ hải quan", "Customs officer"),
    Role.PLANT_QUARANTINE_OFFICER: ("Cán bộ kiểm dịch thực vật", "Plant quarantine officer"),
    Role.ANIMAL_QUARANTINE_OFFICER: ("Cán bộ kiểm dịch động vật", "Animal quarantine officer"),
    Role.HEALTH_QUARANTINE_OFFICER: ("Cán bộ kiểm dịch y tế", "Health quarantine officer"),
    Role.BORDER_GUARD_OFFICER: ("Cán bộ biên phòng", "Border guard officer"),
    Role.YARD_OPERATOR: ("Nhân viên bãi", "Yard operator"),
    Role.MANAGEMENT: ("Ban quản lý", "Management"),
    Role.ADMIN: ("Quản trị hệ thống", "Administrator"),
    Role.SYSTEM: ("Hệ thống", "System"),
}

#: What each event of the audit trail means, for the timeline.
ACTION_LABELS: dict[str, Pair] = {
    "create": ("Lập tờ khai", "Declaration filed"),
    "amend": ("Sửa tờ khai", "Declaration amended"),
    "submit": ("Nộp tờ khai", "Declaration submitted"),
    "cancel": ("Huỷ tờ khai", "Declaration cancelled"),
    "screen": ("Sàng lọc tự động", "Automated screening"),
    "open": ("Mở giai đoạn", "Stage opened"),
    "close": ("Đóng lại giai đoạn", "Stage closed again"),
    "approve": ("Chấp thuận", "Approved"),
    "reject": ("Từ chối", "Rejected"),
    "hold": ("Tạm dừng", "Put on hold"),
    "resume": ("Tiếp tục xử lý", "Resumed"),
    "request_amendment": ("Yêu cầu bổ sung", "Amendment requested"),
    "start_review": ("Tiếp nhận xử lý", "Taken for review"),
    "gate_in": ("Xe vào bãi", "Gate-in"),
    "gate_out": ("Xe ra bãi", "Gate-out"),
    "needs_attention": ("Kiểm tra tự động cần xử lý", "Automated check needs attention"),
}

#: The buttons an officer presses, by decision.
DECISION_LABELS: dict[str, Pair] = {
    "approve": ("Chấp thuận", "Approve"),
    "reject": ("Từ chối", "Reject"),
    "hold": ("Tạm dừng", "Hold"),
    "resume": ("Tiếp tục", "Resume"),
    "request_amendment": ("Yêu cầu bổ sung", "Ask to amend"),
    "start_review": ("Nhận xử lý", "Take"),
}

#: What a finished decision reads like in the confirmation after it.
DECIDED_LABELS: dict[str, Pair] = {
    "approve": ("Đã chấp thuận", "Approved"),
    "reject": ("Đã từ chối", "Rejected"),
    "hold": ("Đã tạm dừng", "Put on hold"),
    "resume": ("Đã tiếp tục xử lý", "Resumed"),
    "request_amendment": ("Đã yêu cầu doanh nghiệp bổ sung", "Amendment requested from the firm"),
    "start_review": ("Bạn đã nhận xử lý tờ khai này", "You have taken this declaration"),
}

_SCREENERS: dict[str, Pair] = {
    "customs-screening": ("sàng lọc hải quan", "customs screening"),
    "quarantine-screening": ("sàng lọc kiểm dịch", "quarantine screening"),
    "border_guard-screening": ("sàng lọc biên phòng", "border guard screening"),
    "workflow": ("quy trình", "workflow"),
}


def actor_label(actor: str, lang: str) -> str:
    """'user:firm_a' reads as the username; 'system:customs-screening' as what the system did."""
    kind, _, name = actor.partition(":")
    if kind == "system":
        what = _SCREENERS.get(name)
        system = pick(ROLE_LABELS[Role.SYSTEM], lang)
        return f"{system} ({pick(what, lang) if what else name})"
    return name or actor


def stage_label(stage: Stage | str, lang: str) -> str:
    return pick(STAGE_LABELS[Stage(stage)], lang)


TEXTS: dict[str, Pair] = {
    # The frame of every page
    "app.name": ("Cửa khẩu số Lạng Sơn", "Lạng Sơn Digital Border Gate"),
    "app.tagline": ("Một tờ khai cho mỗi xe, không giấy tờ", "One declaration per truck, no paper"),
    "nav.skip": ("Bỏ qua đến nội dung chính", "Skip to main content"),
    "nav.main": ("Điều hướng chính", "Main navigation"),
    "nav.declarations": ("Tờ khai", "Declarations"),
    "nav.new": ("Khai tờ mới", "New declaration"),
    "nav.queue": ("Hàng chờ xử lý", "Work queue"),
    "nav.yard": ("Cổng bãi", "Yard gate"),
    "nav.watchlist": ("Danh sách theo dõi", "Watchlist"),
    "nav.dashboard": ("Bảng điều hành", "Dashboard"),
    "nav.logout": ("Đăng xuất", "Log out"),
    "nav.login": ("Đăng nhập", "Log in"),
    "nav.language": ("Ngôn ngữ", "Language"),
    "nav.switch": ("English", "Tiếng Việt"),
    "nav.switch_title": ("Switch to English", "Chuyển sang tiếng Việt"),
    "nav.signed_in": ("Đang đăng nhập", "Signed in as"),
    "footer.offline": (
        "Trang chạy hoàn toàn trên máy chủ cửa khẩu; không cần Internet.",
        "Served entirely by the gate's own server; no Internet needed.",
    ),
    "time.zone_note": ("Giờ theo cửa khẩu", "Times in the gate's local time"),
    # Login
    "login.title": ("Đăng nhập", "Log in"),
    "login.username": ("Tên đăng nhập", "Username"),
    "login.password": ("Mật khẩu", "Password"),
    "login.submit": ("Đăng nhập", "Log in"),
    "login.failed": (
        "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đã bị khoá",
        "Wrong username or password, or the account is disabled",
    ),
    "login.missing": ("Nhập tên đăng nhập và mật khẩu", "Enter your username and password"),
    "login.expired": (
        "Phiên làm việc đã hết hạn; vui lòng đăng nhập lại",
        "Your session has ended; please log in again",
    ),
    "logout.done": ("Bạn đã đăng xuất", "You have logged out"),
    # Errors
    "error.title": ("Có lỗi", "Something went wrong"),
    "error.home": ("Về trang chính", "Back to the start page"),
    "error.back": ("Quay lại trang trước", "Go back"),
    "error.not_found": ("Không tìm thấy trang này", "This page does not exist"),
    "error.forbidden": ("Bạn không có quyền xem trang này", "You may not open this page"),
    "error.not_permitted": ("Bạn không được phép làm việc này", "You may not do this"),
    "error.csrf": (
        "Biểu mẫu đã hết hạn hoặc không hợp lệ. Hãy tải lại trang rồi gửi lại.",
        "The form has expired or is not valid. Reload the page and send it again.",
    ),
    "error.method": ("Thao tác này không dùng được ở đây", "This action is not available here"),
    "error.bad_request": ("Yêu cầu không hợp lệ", "The request is not valid"),
    "error.internal": (
        "Lỗi hệ thống. Vui lòng báo mã lỗi này cho bộ phận hỗ trợ",
        "A system error occurred. Please quote this code to support",
    ),
    "error.code": ("Mã lỗi", "Error code"),
    "error.too_large": ("Nội dung gửi lên quá lớn", "What was sent is too large"),
    "error.role_page": (
        "Trang này dành cho vai trò khác. Vai trò của bạn",
        "This page is for another role. Your role",
    ),
    # Declarations list
    "list.title": ("Tờ khai", "Declarations"),
    "list.filters": ("Lọc", "Filter"),
    "list.apply": ("Lọc", "Apply"),
    "list.clear": ("Bỏ lọc", "Clear"),
    "list.any": ("Tất cả", "Any"),
    "list.empty": ("Không có tờ khai nào", "No declarations"),
    "list.next": ("Trang sau", "Next page"),
    "list.first": ("Trang đầu", "First page"),
    "list.count": ("tờ khai trên trang này", "declarations on this page"),
    # Fields of a declaration
    "field.number": ("Số tờ khai", "Number"),
    "field.status": ("Trạng thái", "Status"),
    "field.direction": ("Hướng", "Direction"),
    "field.gate": ("Cửa khẩu", "Gate"),
    "field.plate": ("Biển số xe", "Vehicle plate"),
    "field.trailer_plate": ("Biển số rơ-moóc", "Trailer plate"),
    "field.vehicle_country": ("Quốc gia đăng ký xe", "Vehicle country"),
    "field.driver_name": ("Họ tên lái xe", "Driver's name"),
    "field.driver_document": ("Số giấy tờ đi đường", "Travel document number"),
    "field.driver_nationality": ("Quốc tịch lái xe", "Driver's nationality"),
    "field.driver_expiry": ("Giấy tờ hết hạn ngày", "Document expires on"),
    "field.consignor": ("Người gửi hàng", "Consignor"),
    "field.consignee": ("Người nhận hàng", "Consignee"),
    "field.planned_arrival": ("Dự kiến đến", "Planned arrival"),
    "field.channel": ("Luồng", "Channel"),
    "field.yard_position": ("Chỗ trong bãi", "Yard slot"),
    "field.gross_weight": ("Tổng trọng lượng", "Gross weight"),
    "field.organisation": ("Doanh nghiệp", "Firm"),
    "field.created_at": ("Lập lúc", "Filed at"),
    "field.arrived_at": ("Vào bãi lúc", "Arrived at"),
    "field.cleared_at": ("Thông quan lúc", "Cleared at"),
    "field.departed_at": ("Ra bãi lúc", "Departed at"),
    "field.version": ("Phiên bản", "Version"),
    "field.hs_code": ("Mã HS", "HS code"),
    "field.description": ("Mô tả hàng", "Description"),
    "field.gross_weight_kg": ("Trọng lượng (kg)", "Gross weight (kg)"),
    "field.packages": ("Số kiện", "Packages"),
    "field.value": ("Trị giá", "Value"),
    "field.currency": ("Tiền tệ", "Currency"),
    "field.origin_country": ("Xuất xứ", "Origin"),
    "field.required": ("bắt buộc", "required"),
    "field.optional": ("không bắt buộc", "optional"),
    "hint.plate": ("Ví dụ 12C-345.67 hoặc 桂A·12345", "e.g. 12C-345.67 or 桂A·12345"),
    "hint.country": ("Mã 2 chữ cái, ví dụ VN, CN", "Two letters, e.g. VN, CN"),
    "hint.currency": ("Mã 3 chữ cái, ví dụ USD, CNY, VND", "Three letters, e.g. USD, CNY, VND"),
    "hint.hs_code": ("4–10 chữ số", "4-10 digits"),
    "hint.planned_arrival": ("Giờ theo cửa khẩu đã chọn", "In the chosen gate's local time"),
    "hint.document": ("5–20 chữ cái hoặc chữ số", "5-20 letters or digits"),
    # Declaration form
    "form.new_title": ("Khai tờ khai mới", "New declaration"),
    "form.edit_title": ("Sửa tờ khai", "Edit declaration"),
    "form.amend_title": ("Bổ sung theo yêu cầu", "Answer the amendment request"),
    "form.vehicle": ("Phương tiện", "Vehicle"),
    "form.driver": ("Lái xe", "Driver"),
    "form.trip": ("Chuyến hàng", "Shipment"),
    "form.cargo": ("Hàng hoá", "Cargo"),
    "form.line": ("Dòng hàng", "Cargo line"),
    "form.add_line": ("Thêm dòng hàng", "Add a cargo line"),
    "form.remove_line": ("Xoá dòng này", "Remove this line"),
    "form.save": ("Lưu bản nháp", "Save draft"),
    "form.save_submit": ("Lưu và nộp", "Save and submit"),
    "form.resubmit": ("Lưu và nộp lại", "Save and resubmit"),
    "form.cancel_edit": ("Thôi, quay lại", "Cancel, go back"),
    "form.has_errors": (
        "Tờ khai chưa hợp lệ: sửa các ô được đánh dấu bên dưới",
        "The declaration is not valid yet: correct the marked fields below",
    ),
    "form.required": ("Vui lòng nhập ô này", "Please fill in this field"),
    "form.min_one_line": ("Cần ít nhất một dòng hàng", "At least one cargo line is needed"),
    "form.stale": (
        "Tờ khai vừa được thay đổi ở nơi khác. Nội dung bạn nhập vẫn còn bên dưới; "
        "hãy xem tờ khai hiện tại rồi lưu lại nếu vẫn đúng.",
        "The declaration was changed elsewhere just now. What you typed is kept below; "
        "check the current declaration, then save again if it is still right.",
    ),
    "form.sent_before": (
        "Biểu mẫu này đã được gửi trước đó (với nội dung khác) và đã lập một tờ khai; "
        "xem danh sách tờ khai. Gửi lại lần nữa sẽ lập thêm một tờ khai mới.",
        "This form was sent before (with other content) and filed a declaration; see your "
        "declarations. Sending it again now files another, new declaration.",
    ),
    "form.not_editable": (
        "Tờ khai ở trạng thái này không sửa được",
        "The declaration cannot be edited in this state",
    ),
    "form.saved": ("Đã lưu bản nháp", "Draft saved"),
    "form.submitted": (
        "Đã nộp tờ khai; hệ thống đang sàng lọc tự động",
        "Declaration submitted; automated screening is running",
    ),
    # One declaration
    "detail.facts": ("Thông tin tờ khai", "Declaration facts"),
    "detail.stages": ("Các giai đoạn", "Stages"),
    "detail.stage": ("Giai đoạn", "Stage"),
    "detail.state": ("Trạng thái", "State"),
    "detail.findings": ("Kết quả sàng lọc", "Screening findings"),
    "detail.decided_by": ("Người quyết định", "Decided by"),
    "detail.reason": ("Lý do", "Reason"),
    "detail.waiting_for": ("Đang chờ", "Waiting for"),
    "detail.assignee": ("Người xử lý", "Taken by"),
    "detail.opened_at": ("Mở lúc", "Opened at"),
    "detail.timeline": ("Diễn biến", "Timeline"),
    "detail.when": ("Thời điểm", "When"),
    "detail.who": ("Ai", "Who"),
    "detail.what": ("Việc gì", "What"),
    "detail.why": ("Lý do / ghi chú", "Why / note"),
    "detail.qr": ("Mã QR tra cứu", "Verification QR"),
    "detail.qr_note": (
        "Lái xe xuất trình mã này tại cổng bãi",
        "The driver shows this code at the yard gate",
    ),
    "detail.documents": ("Chứng từ", "Documents"),
    "detail.no_documents": ("Chưa có chứng từ nào", "No documents yet"),
    "detail.fee": ("Phí hạ tầng cửa khẩu", "Gate infrastructure fee"),
    "detail.fee_due": ("Chưa nộp", "Due"),
    "detail.fee_paid": ("Đã nộp", "Paid"),
    "detail.no_fee": ("Thu khi xe vào bãi", "Charged at gate-in"),
    "detail.edit": ("Sửa tờ khai", "Edit"),
    "detail.submit": ("Nộp tờ khai", "Submit"),
    "detail.cancel": ("Huỷ tờ khai", "Cancel declaration"),
    "detail.cancel_reason": ("Lý do huỷ", "Reason for cancelling"),
    "detail.amend": ("Sửa và nộp lại", "Edit and resubmit"),
    "detail.amendment_asked": ("Yêu cầu bổ sung", "Amendment requested"),
    "detail.amendment_intro": (
        "Cơ quan sau yêu cầu doanh nghiệp bổ sung tờ khai:",
        "These agencies ask the firm to amend the declaration:",
    ),
    "detail.screening_running": (
        "Hệ thống đang sàng lọc tự động; trang sẽ tự cập nhật",
        "Automated screening is running; this page updates itself",
    ),
    "detail.chain_broken": (
        "Cảnh báo: chuỗi băm của nhật ký không khớp",
        "Warning: the audit trail's hash chain does not verify",
    ),
    "detail.cargo_total": ("Tổng", "Total"),
    "detail.back_queue": ("Về hàng chờ", "Back to the queue"),
    "detail.cancelled": ("Đã huỷ tờ khai", "Declaration cancelled"),
    # Officer's decision
    "decide.title": ("Quyết định của bạn", "Your decision"),
    "decide.reason": ("Lý do", "Reason"),
    "decide.reason_hint": (
        "Bắt buộc khi quyết định; không cần khi chỉ nhận xử lý",
        "Required for a decision; not needed to take the declaration",
    ),
    "decide.not_open": ("Giai đoạn của bạn chưa mở", "Your stage is not open yet"),
    "decide.done": ("Giai đoạn của bạn đã xong", "Your stage is finished"),
    "decide.with_firm": (
        "Đang chờ doanh nghiệp bổ sung; quyết định sau khi doanh nghiệp nộp lại",
        "Waiting for the firm's amendment; decide after it is resubmitted",
    ),
    "decide.not_in_workflow": (
        "Tờ khai này không cần giai đoạn của bạn",
        "This declaration does not need your stage",
    ),
    "decide.conflict": (
        "Người khác vừa quyết định tờ khai này trước bạn. Trang hiển thị trạng thái mới nhất; "
        "quyết định của bạn CHƯA được ghi. Lý do bạn nhập vẫn còn bên dưới.",
        "Someone else decided this declaration just before you. The page shows the latest "
        "state; your decision was NOT recorded. The reason you typed is kept below.",
    ),
    "decide.repeat": (
        "Có thể bạn đã bấm hai lần hoặc gửi lại biểu mẫu cũ: quyết định đầu tiên đã được ghi, "
        "lần gửi sau không được ghi thêm.",
        "You may have clicked twice or sent an old form again: the first decision was "
        "recorded, the repeat was not.",
    ),
    "decide.your_reason": (
        "Lý do bạn đã nhập (chưa được ghi):",
        "The reason you typed (not recorded):",
    ),
    "decide.refused": ("Không thực hiện được", "Not done"),
    # Queue
    "queue.title": ("Hàng chờ xử lý", "Work queue"),
    "queue.intro": (
        "Tờ khai đang chờ giai đoạn của bạn, lâu nhất lên đầu",
        "Declarations waiting for your stage, longest waiting first",
    ),
    "queue.waiting": ("Đã chờ", "Waiting"),
    "queue.attention": ("Cần chú ý", "Needs attention"),
    "queue.only_attention": ("Chỉ những tờ khai cần chú ý", "Only those needing attention"),
    "queue.state": ("Tình trạng", "State"),
    "queue.open_states": ("Đang chờ xử lý", "Waiting for a decision"),
    "queue.with_firm": ("Chờ doanh nghiệp bổ sung", "Waiting for the firm"),
    "queue.empty": ("Không có tờ khai nào đang chờ bạn", "Nothing is waiting for you"),
    "queue.open": ("Mở", "Open"),
    "queue.taken_by": ("Đang do", "Taken by"),
    "queue.truncated": ("Chỉ hiển thị", "Showing only the first"),
    # Yard
    "yard.title": ("Cổng bãi", "Yard gate"),
    "yard.kind": ("Thao tác", "Action"),
    "yard.gate_in": ("Xe vào bãi", "Gate in"),
    "yard.gate_out": ("Xe ra bãi", "Gate out"),
    "yard.plate": ("Biển số hoặc quét mã QR", "Plate, or scan the QR code"),
    "yard.plate_hint": (
        "Nhập biển số rồi nhấn Enter. Phím tắt: Alt+I vào, Alt+O ra, Alt+P ô biển số.",
        "Type the plate and press Enter. Shortcuts: Alt+I in, Alt+O out, Alt+P plate field.",
    ),
    "yard.record": ("Ghi nhận", "Record"),
    "yard.in_done": ("Xe đã vào bãi", "Truck gated in"),
    "yard.out_done": ("Xe đã ra bãi", "Truck gated out"),
    "yard.slot": ("Chỗ", "Slot"),
    "yard.pick": (
        "Biển số này khớp nhiều tờ khai. Chọn đúng tờ khai:",
        "This plate matches several declarations. Choose the right one:",
    ),
    "yard.choose": ("Chọn", "Choose"),
    "yard.full": ("Bãi đã đầy", "The yard is full"),
    "yard.in_yard": ("Xe trong bãi", "Trucks in the yard"),
    "yard.free": ("Chỗ trống", "Free slots"),
    "yard.capacity": ("Sức chứa", "Capacity"),
    "yard.since": ("Từ lúc", "Since"),
    "yard.duration": ("Thời gian", "Time in yard"),
    "yard.empty": ("Bãi đang trống", "The yard is empty"),
    "yard.live": ("Tự cập nhật mỗi 10 giây", "Updates itself every 10 seconds"),
    "yard.not_recorded": ("Chưa ghi nhận", "Not recorded"),
    # Watchlist
    "watch.title": ("Danh sách theo dõi", "Watchlist"),
    "watch.intro": (
        "Biển số và giấy tờ đi đường cần biên phòng chú ý khi sàng lọc",
        "Plates and travel documents the border guard's screening watches for",
    ),
    "watch.kind": ("Loại", "Kind"),
    "watch.kind_plate": ("Biển số xe", "Vehicle plate"),
    "watch.kind_document": ("Giấy tờ đi đường", "Travel document"),
    "watch.value": ("Biển số / số giấy tờ", "Plate / document number"),
    "watch.reason": ("Lý do", "Reason"),
    "watch.expires": ("Hết hạn theo dõi ngày", "Watch until"),
    "watch.expires_hint": ("Để trống nếu không thời hạn", "Leave empty for no end date"),
    "watch.never": ("Không thời hạn", "No end date"),
    "watch.add": ("Thêm vào danh sách", "Add to the watchlist"),
    "watch.added": ("Đã thêm vào danh sách theo dõi", "Added to the watchlist"),
    "watch.remove": ("Gỡ khỏi danh sách", "Remove"),
    "watch.removal_reason": ("Lý do gỡ", "Reason for removing"),
    "watch.removed": ("Đã gỡ khỏi danh sách theo dõi", "Removed from the watchlist"),
    "watch.created": ("Thêm bởi", "Added by"),
    "watch.active": ("Đang theo dõi", "Active"),
    "watch.inactive": ("Hết hiệu lực", "Inactive"),
    "watch.show_inactive": ("Hiện cả mục đã gỡ / hết hạn", "Show removed and expired entries"),
    "watch.empty": ("Danh sách đang trống", "The watchlist is empty"),
    "watch.read_only": (
        "Chỉ xem: biên phòng quản lý danh sách này",
        "Read only: the border guard manages this list",
    ),
    "watch.reason_short": ("Lý do cần 3–1000 ký tự", "The reason needs 3-1000 characters"),
    "watch.value_bad": ("Giá trị cần 3–40 ký tự", "The value needs 3-40 characters"),
    "watch.expiry_bad": ("Ngày không hợp lệ", "Not a valid date"),
    # Dashboard
    "dash.title": ("Bảng điều hành", "Dashboard"),
    "dash.period": ("Khoảng thời gian", "Period"),
    "dash.period_24h": ("24 giờ qua (theo giờ)", "Last 24 hours (hourly)"),
    "dash.period_7d": ("7 ngày qua (theo ngày)", "Last 7 days (daily)"),
    "dash.period_30d": ("30 ngày qua (theo ngày)", "Last 30 days (daily)"),
    "dash.show": ("Xem", "Show"),
    "dash.throughput": ("Lưu lượng xe", "Throughput"),
    "dash.declared": ("Đã khai", "Declared"),
    "dash.arrived": ("Vào bãi", "Arrived"),
    "dash.cleared": ("Thông quan", "Cleared"),
    "dash.departed": ("Qua cửa khẩu", "Departed"),
    "dash.stage_time": ("Thời gian xử lý mỗi giai đoạn", "Time per stage"),
    "dash.stage_time_note": (
        "Trung vị từ lúc mở giai đoạn đến khi cán bộ quyết định (không tính duyệt tự động), phút",
        "Median from the stage opening to an officer's decision (automatic approvals left out), minutes",
    ),
    "dash.queue": ("Số xe trong bãi", "Trucks in the yard"),
    "dash.now": ("Hiện tại", "Now"),
    "dash.bottleneck": ("Điểm nghẽn", "Bottleneck"),
    "dash.bottleneck_note": (
        "Giai đoạn có tổng thời gian chờ lớn nhất của các xe đang chờ",
        "The stage whose waiting trucks have waited longest in total",
    ),
    "dash.no_bottleneck": ("Không có xe nào đang chờ", "No truck is waiting"),
    "dash.open_now": ("Đang chờ", "Waiting now"),
    "dash.oldest": ("Lâu nhất", "Longest"),
    "dash.median": ("Trung vị", "Median"),
    "dash.decisions": ("Số quyết định", "Decisions"),
    "dash.minutes": ("phút", "min"),
    "dash.reports": ("Tải báo cáo", "Download reports"),
    "dash.report_csv": ("Báo cáo lưu lượng (CSV)", "Throughput report (CSV)"),
    "dash.report_pdf": ("Báo cáo lưu lượng có ký số (PDF)", "Signed throughput report (PDF)"),
    "dash.table": ("Xem số liệu dạng bảng", "Show the figures as a table"),
    "dash.period_col": ("Thời gian", "Period"),
    "dash.failures": ("Kiểm tra tự động cần xử lý", "Checks needing attention"),
    "dash.failures_empty": ("Không có kiểm tra nào bị lỗi", "No failed checks"),
    "dash.agency": ("Cơ quan", "Agency"),
    "dash.error": ("Lỗi", "Error"),
    "dash.attempts": ("Số lần thử", "Attempts"),
    "dash.failed_at": ("Lỗi lúc", "Failed at"),
    "dash.retry": ("Chạy lại", "Retry"),
    "dash.retried": ("Đã gửi lại kiểm tra", "The check was sent again"),
    # Generic
    "common.yes": ("Có", "Yes"),
    "common.no": ("Không", "No"),
    "common.none": ("—", "—"),
    "common.save": ("Lưu", "Save"),
    "common.open": ("Xem", "Open"),
    "common.minutes_ago": ("phút", "min"),
    "common.hours": ("giờ", "h"),
    "common.days": ("ngày", "d"),
}

# The electronic queue's words live with the queue (border_gate/queue/texts.py).
ACTION_LABELS.update(QUEUE_ACTION_LABELS)
TEXTS.update(QUEUE_TEXTS)


def role_label(role: Role | str, lang: str) -> str:
    return pick(ROLE_LABELS[Role(role)], lang)
