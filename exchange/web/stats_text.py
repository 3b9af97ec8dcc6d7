"""Labels of the statistics and audit pages (English and Khmer), and ``label(lang, group, code)``, which names
a code (a situation, an outcome, a flag, an audit action's outcome) in the officer's words, or shows the code
itself, readable, when the page does not know it yet (a new flag of the API)."""

from __future__ import annotations

from . import i18n

EN = {
    "stats.menu": "Statistics", "stats.title": "Border check statistics",
    "stats.intro": "Counts of border checks, with no personal data. Days are Cambodian dates (UTC+7).",
    "stats.since": "From (date)", "stats.until": "To (date)", "stats.post": "Border post",
    "stats.all_posts": "All posts",
    "stats.show": "Show", "stats.csv": "Download these figures (CSV)",
    "stats.total": "{checks} checks from {since} to {until}",
    "stats.by_day": "Checks per day by border post", "stats.by_situation": "Checks by travel situation",
    "stats.by_flag": "Checks by flag", "stats.by_outcome": "Checks by outcome",
    "stats.by_action": "Checks by recommendation", "stats.alerts": "Alerts by status",
    "stats.day": "Day", "stats.count": "Checks", "stats.what": "Category", "stats.none": "No checks in this period.",
    "stats.table": "The numbers of this chart",
    "stats.outcome.none": "No outcome recorded",
    "stats.situation.alone": "Alone", "stats.situation.parents": "With both parents",
    "stats.situation.one_parent": "With one parent", "stats.situation.other_adults": "With other adults",
    "stats.situation.group": "In a group",
    "stats.outcome.cleared": "Cleared", "stats.outcome.secondary_inspection": "Secondary inspection",
    "stats.outcome.referred_police": "Referred to police",
    "stats.outcome.referred_social_affairs": "Referred to social affairs", "stats.outcome.refused": "Refused",
    "stats.action.clear": "Clear", "stats.action.secondary_inspection": "Secondary inspection",
    "stats.action.refer": "Refer", "stats.action.hold": "Hold",
    "stats.flag.child_alone": "Child alone", "stats.flag.large_group": "Large group",
    "stats.flag.unrelated_adult": "Unrelated adult", "stats.flag.no_consent_letter": "No consent letter",
    "stats.flag.document_expired": "Document expired", "stats.flag.mrz_invalid": "MRZ invalid",
    "stats.flag.age_inconsistent": "Age inconsistent", "stats.flag.no_document": "No document",
    "stats.flag.companion_watchlist_hit": "Adult: possible match",
    "stats.flag.child_watchlist_hit": "Child: possible match",
    "stats.alert.open": "Open", "stats.alert.confirmed": "Confirmed", "stats.alert.rejected": "Rejected",
    "audit.menu": "Audit log", "audit.verify_menu": "Chain verification",
    "audit.title": "Audit log", "audit.intro": "Every read, change, search, disclosure and refusal.",
    "audit.order": "Order", "audit.order.newest": "Newest first", "audit.order.oldest": "Oldest first",
    "audit.action": "Action", "audit.user": "User name", "audit.outcome": "Outcome", "audit.any": "Any",
    "audit.since": "From (UTC)", "audit.until": "Until (UTC)",
    "audit.limit": "Rows per page", "audit.filter": "Show", "audit.next": "Next page", "audit.first": "First page",
    "audit.none": "No row matches these filters.",
    "audit.rows": "{n} rows shown", "audit.more": "More rows follow on the next page.",
    "audit.col.id": "Row", "audit.col.time": "Time (UTC)", "audit.col.who": "Who", "audit.col.role": "Role",
    "audit.col.post": "Post", "audit.col.purpose": "Purpose", "audit.col.case_ref": "Case ref",
    "audit.col.action": "Action", "audit.col.outcome": "Outcome", "audit.col.records": "Record ids",
    "audit.col.sealed": "Chained",
    "audit.outcome.ok": "ok", "audit.outcome.denied": "denied", "audit.outcome.failed": "failed",
    "audit.sealed": "link {seq}", "audit.pending": "waiting to be chained",
    "audit.verify.title": "Audit chain verification",
    "audit.verify.intro": "Recomputes the hash of every row of the audit log from the chain's start: a changed, "
                          "removed or reordered row breaks it. Each run checks at most {limit} links; continue "
                          "until the whole chain is checked. The run is itself recorded in the log.",
    "audit.verify.ok": "Verified: links {first} to {last} are intact.",
    "audit.verify.whole": "The whole chain ({n} links) is intact; {pending} rows are waiting to be chained.",
    "audit.verify.partial": "Links up to {last} of {n} are checked; the rest is not checked yet.",
    "audit.verify.continue": "Continue from link {last}",
    "audit.verify.failed": "Verification FAILED: the audit log has been changed.",
    "audit.verify.bad_row": "First row that does not fit: {id}",
    "audit.verify.reason": "Why: {reason}",
    "audit.verify.again": "Verify again from the start",
    "audit.verify.open": "Open this row in the log",
}

KM = {
    "stats.menu": "ស្ថិតិ", "stats.title": "ស្ថិតិនៃការត្រួតពិនិត្យព្រំដែន",
    "stats.intro": "ចំនួននៃការត្រួតពិនិត្យព្រំដែន ដោយគ្មានទិន្នន័យផ្ទាល់ខ្លួន។ ថ្ងៃគឺតាមម៉ោងកម្ពុជា (UTC+7)។",
    "stats.since": "ពី (ថ្ងៃ)", "stats.until": "ដល់ (ថ្ងៃ)", "stats.post": "ប៉ុស្តិ៍ព្រំដែន",
    "stats.all_posts": "ប៉ុស្តិ៍ទាំងអស់", "stats.show": "បង្ហាញ", "stats.csv": "ទាញយកតួលេខទាំងនេះ (CSV)",
    "stats.total": "ការត្រួតពិនិត្យ {checks} ពី {since} ដល់ {until}",
    "stats.by_day": "ការត្រួតពិនិត្យប្រចាំថ្ងៃតាមប៉ុស្តិ៍", "stats.by_situation": "ការត្រួតពិនិត្យតាមស្ថានភាពធ្វើដំណើរ",
    "stats.by_flag": "ការត្រួតពិនិត្យតាមសញ្ញាព្រមាន", "stats.by_outcome": "ការត្រួតពិនិត្យតាមលទ្ធផល",
    "stats.by_action": "ការត្រួតពិនិត្យតាមអនុសាសន៍", "stats.alerts": "ការជូនដំណឹងតាមស្ថានភាព",
    "stats.day": "ថ្ងៃ", "stats.count": "ការត្រួតពិនិត្យ", "stats.what": "ប្រភេទ",
    "stats.none": "គ្មានការត្រួតពិនិត្យក្នុងរយៈពេលនេះទេ។", "stats.table": "តួលេខនៃតារាងនេះ",
    "stats.situation.alone": "តែម្នាក់ឯង", "stats.situation.parents": "ជាមួយឪពុកម្ដាយទាំងពីរ",
    "stats.situation.one_parent": "ជាមួយឪពុក ឬម្ដាយម្នាក់", "stats.situation.other_adults": "ជាមួយមនុស្សពេញវ័យផ្សេងទៀត",
    "stats.situation.group": "ជាក្រុម",
    "audit.menu": "កំណត់ហេតុសវនកម្ម", "audit.verify_menu": "ការផ្ទៀងផ្ទាត់ខ្សែសង្វាក់",
    "audit.title": "កំណត់ហេតុសវនកម្ម", "audit.action": "សកម្មភាព", "audit.user": "ឈ្មោះអ្នកប្រើ",
    "audit.outcome": "លទ្ធផល", "audit.any": "ទាំងអស់", "audit.filter": "បង្ហាញ", "audit.next": "ទំព័របន្ទាប់",
    "audit.first": "ទំព័រដំបូង", "audit.none": "គ្មានជួរណាត្រូវនឹងតម្រងទាំងនេះទេ។",
    "audit.order": "លំដាប់", "audit.order.newest": "ថ្មីបំផុតមុន", "audit.order.oldest": "ចាស់បំផុតមុន",
    "audit.verify.title": "ការផ្ទៀងផ្ទាត់ខ្សែសង្វាក់សវនកម្ម",
    "audit.verify.failed": "ការផ្ទៀងផ្ទាត់បរាជ័យ៖ កំណត់ហេតុសវនកម្មត្រូវបានកែប្រែ។",
    "stats.outcome.none": "គ្មានលទ្ធផលដែលបានកត់ត្រា",
    "stats.outcome.cleared": "អនុញ្ញាតឲ្យឆ្លងកាត់", "stats.outcome.secondary_inspection": "ត្រួតពិនិត្យបន្ថែម",
    "stats.outcome.referred_police": "បានបញ្ជូនទៅប៉ូលីស",
    "stats.outcome.referred_social_affairs": "បានបញ្ជូនទៅសង្គមកិច្ច", "stats.outcome.refused": "បដិសេធមិនឲ្យឆ្លងកាត់",
    "stats.action.clear": "គ្មានបញ្ហា", "stats.action.secondary_inspection": "ត្រួតពិនិត្យបន្ថែម",
    "stats.action.refer": "បញ្ជូនបន្ត", "stats.action.hold": "ឃាត់ទុក",
    "stats.flag.child_alone": "កុមារតែម្នាក់ឯង", "stats.flag.large_group": "ក្រុមធំ",
    "stats.flag.unrelated_adult": "មនុស្សពេញវ័យមិនមែនសាច់ញាតិ", "stats.flag.no_consent_letter": "គ្មានលិខិតយល់ព្រម",
    "stats.flag.document_expired": "ឯកសារផុតសុពលភាព", "stats.flag.mrz_invalid": "MRZ មិនត្រឹមត្រូវ",
    "stats.flag.age_inconsistent": "អាយុមិនស្រប", "stats.flag.no_document": "គ្មានឯកសារ",
    "stats.flag.companion_watchlist_hit": "មនុស្សពេញវ័យ៖ អាចត្រូវគ្នា",
    "stats.flag.child_watchlist_hit": "កុមារ៖ អាចត្រូវគ្នា",
    "stats.alert.open": "កំពុងបើក", "stats.alert.confirmed": "បានបញ្ជាក់", "stats.alert.rejected": "បានបដិសេធ",
    "audit.intro": "រាល់ការអាន ការផ្លាស់ប្ដូរ ការស្វែងរក ការបង្ហាញព័ត៌មាន និងការបដិសេធ។",
    "audit.since": "ពី (UTC)", "audit.until": "ដល់ (UTC)", "audit.limit": "ចំនួនជួរក្នុងមួយទំព័រ",
    "audit.rows": "បង្ហាញ {n} ជួរ", "audit.more": "មានជួរបន្ថែមទៀតនៅទំព័របន្ទាប់។",
    "audit.col.id": "ជួរ", "audit.col.time": "ពេលវេលា (UTC)", "audit.col.who": "អ្នកណា", "audit.col.role": "តួនាទី",
    "audit.col.post": "ប៉ុស្តិ៍", "audit.col.purpose": "គោលបំណង", "audit.col.case_ref": "លេខសំណុំរឿង",
    "audit.col.action": "សកម្មភាព", "audit.col.outcome": "លទ្ធផល", "audit.col.records": "លេខសម្គាល់កំណត់ត្រា",
    "audit.col.sealed": "បានភ្ជាប់ក្នុងខ្សែសង្វាក់",
    "audit.outcome.ok": "ជោគជ័យ", "audit.outcome.denied": "ត្រូវបានបដិសេធ", "audit.outcome.failed": "បរាជ័យ",
    "audit.sealed": "តំណ {seq}", "audit.pending": "កំពុងរង់ចាំភ្ជាប់ក្នុងខ្សែសង្វាក់",
    "audit.verify.intro": "គណនាឡើងវិញនូវ hash នៃជួរនីមួយៗនៃកំណត់ហេតុសវនកម្ម ចាប់ពីដើមខ្សែសង្វាក់៖ "
                          "ជួរដែលត្រូវបានកែប្រែ លុប ឬប្ដូរលំដាប់ នឹងធ្វើឲ្យខ្សែសង្វាក់ដាច់។ "
                          "ការដំណើរការម្ដងៗពិនិត្យតំណយ៉ាងច្រើន {limit}; សូមបន្តរហូតដល់ពិនិត្យខ្សែសង្វាក់ទាំងមូលរួច។ "
                          "ការដំណើរការនេះក៏ត្រូវបានកត់ត្រាក្នុងកំណត់ហេតុដែរ។",
    "audit.verify.ok": "បានផ្ទៀងផ្ទាត់៖ តំណ {first} ដល់ {last} នៅដដែល គ្មានការកែប្រែ។",
    "audit.verify.whole": "ខ្សែសង្វាក់ទាំងមូល ({n} តំណ) នៅដដែល គ្មានការកែប្រែ; "
                          "មាន {pending} ជួរកំពុងរង់ចាំភ្ជាប់ក្នុងខ្សែសង្វាក់។",
    "audit.verify.partial": "តំណរហូតដល់ {last} ក្នុងចំណោម {n} ត្រូវបានពិនិត្យ; នៅសល់មិនទាន់បានពិនិត្យទេ។",
    "audit.verify.continue": "បន្តពីតំណ {last}",
    "audit.verify.bad_row": "ជួរដំបូងដែលមិនត្រូវគ្នា៖ {id}",
    "audit.verify.reason": "មូលហេតុ៖ {reason}",
    "audit.verify.again": "ផ្ទៀងផ្ទាត់ម្ដងទៀតពីដើម",
    "audit.verify.open": "បើកជួរនេះក្នុងកំណត់ហេតុ",
}

i18n.register({"en": EN, "km": KM})


def label(lang: str, group: str, code: str | None) -> str:
    """The words for ``code`` of ``group`` (e.g. "flag", "child_alone"); the code, readable, when unknown."""
    key = f"stats.{group}.{code if code is not None else 'none'}"
    text = i18n.translate(lang, key)
    return text if text != key else str(code).replace("_", " ")
