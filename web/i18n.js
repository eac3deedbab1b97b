// Seva's web app in English and Hindi. Every visible string comes from here (data-i18n="key" in the HTML, t("key")
// in scripts). The language is the user's choice, kept in localStorage; the default follows the browser.
"use strict";

const STRINGS = {
  en: {
    "app.title": "Seva — control room",
    "public.title": "Seva — how the UP police answer complaints on X",
    "skip": "Skip to content",
    "lang.switch": "हिन्दी",
    "lang.switch.label": "Switch to Hindi",
    "nav.queue": "Live queue",
    "nav.review": "Review",
    "nav.performance": "Performance",
    "nav.public": "Public page",
    "signin.title": "Sign in",
    "signin.username": "Username",
    "signin.password": "Password",
    "signin.submit": "Sign in",
    "signin.failed": "Sign-in failed: check the username and password.",
    "signout": "Sign out",
    "role.state_cell": "State cell",
    "role.district": "District",
    "role.officer": "Officer",
    "filters": "Filters",
    "filter.district": "District",
    "filter.category": "Category",
    "filter.status": "Status",
    "filter.language": "Language",
    "filter.priority": "Priority",
    "filter.deadline": "Deadline",
    "filter.from": "From",
    "filter.to": "To",
    "filter.any": "Any",
    "filter.all_districts": "All districts",
    "queue.title": "Open complaints",
    "queue.empty": "No open complaints match.",
    "queue.updated": "Updated",
    "queue.new": "new",
    "queue.escalated": "Escalated (level {level})",
    "col.escalation": "Escalation",
    "queue.count": "{n} open complaints: {breached} breached, {due_soon} due soon.",
    "col.reference": "Reference",
    "col.priority": "Priority",
    "col.category": "Category",
    "col.district": "District",
    "col.status": "Status",
    "col.received": "Received",
    "col.due": "Due",
    "col.deadline": "Deadline",
    "col.text": "Complaint",
    "col.confidence": "Confidence",
    "col.reason": "Why review",
    "deadline.breached": "Breached",
    "deadline.due_soon": "Due soon",
    "deadline.on_time": "On time",
    "deadline.none": "—",
    "export.csv": "Export CSV",
    "export.figures": "Export figures (CSV)",
    "export.labels": "Export labelled data (JSONL)",
    "complaint.back": "Back to the queue",
    "complaint.tweet": "The tweet",
    "complaint.open_on_x": "Open on X",
    "complaint.by": "by",
    "complaint.triage": "Triage",
    "complaint.evidence": "Evidence",
    "complaint.timeline": "Timeline",
    "complaint.actions": "Actions",
    "complaint.note": "Note",
    "complaint.reassign_to": "Reassign to",
    "complaint.review_category": "Category (review)",
    "complaint.review_priority": "Priority (review)",
    "complaint.done": "Done: {action}.",
    "complaint.refused": "Not done: {message}",
    "action.acknowledge": "Acknowledge",
    "action.on_the_way": "On the way",
    "action.resolve": "Resolve",
    "action.reassign": "Reassign",
    "action.note": "Add note",
    "action.to_complaint": "It is a complaint",
    "action.to_noise": "It is not a complaint",
    "action.review": "Confirm / correct triage",
    "review.title": "Review queue",
    "review.intro": "Triage was unsure of these: confirm or correct them. Each verdict is recorded and can be exported as labelled data.",
    "review.confirm": "Confirm",
    "review.empty": "Nothing to review.",
    "perf.title": "Performance",
    "perf.received": "Received",
    "perf.ack_sla": "Acknowledged within SLA",
    "perf.ack_p50": "Median time to acknowledge",
    "perf.ack_p95": "95th percentile to acknowledge",
    "perf.resolve_p50": "Median time to resolve",
    "perf.resolve_p95": "95th percentile to resolve",
    "perf.escalations": "Escalations",
    "perf.reopen_rate": "Reopen rate",
    "perf.satisfaction": "Satisfaction (1–5)",
    "perf.resolved": "Resolved",
    "perf.ack_distribution": "Time to acknowledge (complaints per time band)",
    "perf.sla_over_time": "Acknowledged within SLA, by day (%)",
    "perf.by_district": "By district",
    "perf.by_category": "By category",
    "perf.complaints": "Complaints",
    "public.heading": "Complaints to the UP police on X",
    "public.intro": "Counts and times only: no tweet, no name, no username is shown here.",
    "public.state": "Uttar Pradesh",
    "public.generated": "Figures from {from} to {to}, updated {at}.",
    "public.lookup": "Look up a reference",
    "public.reference": "Reference (e.g. UP-LKO-2026-000123)",
    "public.find": "Find",
    "public.notfound": "No complaint has this reference.",
    "public.acknowledged": "Acknowledged",
    "public.median_response": "Median response time",
    "public.median_resolution": "Median resolution time",
    "error.load": "Could not load: {message}",
    "none": "—",
    "loading": "Loading…",
  },
  hi: {
    "app.title": "सेवा — नियंत्रण कक्ष",
    "public.title": "सेवा — यूपी पुलिस X पर शिकायतों का उत्तर कैसे देती है",
    "skip": "सामग्री पर जाएँ",
    "lang.switch": "English",
    "lang.switch.label": "अंग्रेज़ी में देखें",
    "nav.queue": "लाइव कतार",
    "nav.review": "समीक्षा",
    "nav.performance": "प्रदर्शन",
    "nav.public": "सार्वजनिक पृष्ठ",
    "signin.title": "साइन इन",
    "signin.username": "उपयोगकर्ता नाम",
    "signin.password": "पासवर्ड",
    "signin.submit": "साइन इन करें",
    "signin.failed": "साइन इन नहीं हुआ: उपयोगकर्ता नाम और पासवर्ड जाँचें।",
    "signout": "साइन आउट",
    "role.state_cell": "राज्य प्रकोष्ठ",
    "role.district": "ज़िला",
    "role.officer": "अधिकारी",
    "filters": "फ़िल्टर",
    "filter.district": "ज़िला",
    "filter.category": "श्रेणी",
    "filter.status": "स्थिति",
    "filter.language": "भाषा",
    "filter.priority": "प्राथमिकता",
    "filter.deadline": "समय-सीमा",
    "filter.from": "से",
    "filter.to": "तक",
    "filter.any": "कोई भी",
    "filter.all_districts": "सभी ज़िले",
    "queue.title": "खुली शिकायतें",
    "queue.empty": "कोई खुली शिकायत नहीं मिली।",
    "queue.updated": "अद्यतन",
    "queue.new": "नई",
    "queue.escalated": "एस्केलेट (स्तर {level})",
    "col.escalation": "एस्केलेशन",
    "queue.count": "{n} खुली शिकायतें: {breached} समय-सीमा पार, {due_soon} जल्द देय।",
    "col.reference": "संदर्भ",
    "col.priority": "प्राथमिकता",
    "col.category": "श्रेणी",
    "col.district": "ज़िला",
    "col.status": "स्थिति",
    "col.received": "प्राप्त",
    "col.due": "देय",
    "col.deadline": "समय-सीमा",
    "col.text": "शिकायत",
    "col.confidence": "विश्वास",
    "col.reason": "समीक्षा क्यों",
    "deadline.breached": "समय-सीमा पार",
    "deadline.due_soon": "जल्द देय",
    "deadline.on_time": "समय पर",
    "deadline.none": "—",
    "export.csv": "CSV निर्यात",
    "export.figures": "आँकड़े निर्यात (CSV)",
    "export.labels": "लेबल डेटा निर्यात (JSONL)",
    "complaint.back": "कतार पर वापस",
    "complaint.tweet": "ट्वीट",
    "complaint.open_on_x": "X पर खोलें",
    "complaint.by": "द्वारा",
    "complaint.triage": "वर्गीकरण",
    "complaint.evidence": "साक्ष्य",
    "complaint.timeline": "समयरेखा",
    "complaint.actions": "कार्रवाई",
    "complaint.note": "टिप्पणी",
    "complaint.reassign_to": "इस ज़िले को सौंपें",
    "complaint.review_category": "श्रेणी (समीक्षा)",
    "complaint.review_priority": "प्राथमिकता (समीक्षा)",
    "complaint.done": "हो गया: {action}।",
    "complaint.refused": "नहीं हुआ: {message}",
    "action.acknowledge": "स्वीकार करें",
    "action.on_the_way": "रास्ते में",
    "action.resolve": "निस्तारित",
    "action.reassign": "दूसरे ज़िले को सौंपें",
    "action.note": "टिप्पणी जोड़ें",
    "action.to_complaint": "यह शिकायत है",
    "action.to_noise": "यह शिकायत नहीं है",
    "action.review": "वर्गीकरण पुष्टि / सुधार",
    "review.title": "समीक्षा कतार",
    "review.intro": "इन पर वर्गीकरण अनिश्चित था: पुष्टि या सुधार करें। हर निर्णय दर्ज होता है और लेबल डेटा के रूप में निर्यात हो सकता है।",
    "review.confirm": "पुष्टि करें",
    "review.empty": "समीक्षा के लिए कुछ नहीं।",
    "perf.title": "प्रदर्शन",
    "perf.received": "प्राप्त",
    "perf.ack_sla": "समय-सीमा में स्वीकार",
    "perf.ack_p50": "स्वीकार करने का माध्य समय",
    "perf.ack_p95": "स्वीकार करने का 95वाँ पर्सेंटाइल",
    "perf.resolve_p50": "निस्तारण का माध्य समय",
    "perf.resolve_p95": "निस्तारण का 95वाँ पर्सेंटाइल",
    "perf.escalations": "एस्केलेशन",
    "perf.reopen_rate": "पुनः खुलने की दर",
    "perf.satisfaction": "संतुष्टि (1–5)",
    "perf.resolved": "निस्तारित",
    "perf.ack_distribution": "स्वीकार करने का समय (हर समय-खंड में शिकायतें)",
    "perf.sla_over_time": "समय-सीमा में स्वीकार, दिन के अनुसार (%)",
    "perf.by_district": "ज़िले के अनुसार",
    "perf.by_category": "श्रेणी के अनुसार",
    "perf.complaints": "शिकायतें",
    "public.heading": "X पर यूपी पुलिस को शिकायतें",
    "public.intro": "केवल संख्याएँ और समय: यहाँ कोई ट्वीट, नाम या उपयोगकर्ता नाम नहीं दिखाया जाता।",
    "public.state": "उत्तर प्रदेश",
    "public.generated": "{from} से {to} तक के आँकड़े, अद्यतन {at}।",
    "public.lookup": "संदर्भ संख्या खोजें",
    "public.reference": "संदर्भ (जैसे UP-LKO-2026-000123)",
    "public.find": "खोजें",
    "public.notfound": "इस संदर्भ की कोई शिकायत नहीं है।",
    "public.acknowledged": "स्वीकार",
    "public.median_response": "माध्य उत्तर समय",
    "public.median_resolution": "माध्य निस्तारण समय",
    "error.load": "लोड नहीं हुआ: {message}",
    "none": "—",
    "loading": "लोड हो रहा है…",
  },
};

const LABELS = {
  en: {
    status: { ROUTED: "Routed", ACKNOWLEDGED: "Acknowledged", ON_THE_WAY: "On the way", RESOLVED: "Resolved",
      REOPENED: "Reopened", CLOSED: "Closed", NOISE: "Not a complaint", RECEIVED: "Received", ATTACHED: "Follow-up" },
    category: { emergency: "Emergency", violent_crime: "Violent crime", theft: "Theft", women_safety: "Women's safety",
      cyber_fraud: "Cyber fraud", traffic: "Traffic", public_nuisance: "Public nuisance",
      police_conduct: "Police conduct", missing_person: "Missing person", land_property: "Land / property",
      other: "Other" },
    language: { en: "English", hi: "Hindi", "hi-Latn": "Hinglish", ur: "Urdu", bho: "Bhojpuri", awa: "Awadhi" },
  },
  hi: {
    status: { ROUTED: "भेजी गई", ACKNOWLEDGED: "स्वीकृत", ON_THE_WAY: "रास्ते में", RESOLVED: "निस्तारित",
      REOPENED: "पुनः खुली", CLOSED: "बंद", NOISE: "शिकायत नहीं", RECEIVED: "प्राप्त", ATTACHED: "अनुवर्ती" },
    category: { emergency: "आपातकाल", violent_crime: "हिंसक अपराध", theft: "चोरी", women_safety: "महिला सुरक्षा",
      cyber_fraud: "साइबर धोखाधड़ी", traffic: "यातायात", public_nuisance: "सार्वजनिक उपद्रव",
      police_conduct: "पुलिस आचरण", missing_person: "गुमशुदा", land_property: "भूमि / संपत्ति", other: "अन्य" },
    language: { en: "अंग्रेज़ी", hi: "हिन्दी", "hi-Latn": "हिंग्लिश", ur: "उर्दू", bho: "भोजपुरी", awa: "अवधी" },
  },
};

function currentLanguage() {
  const saved = localStorage.getItem("seva.lang");
  if (saved === "en" || saved === "hi") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("hi") ? "hi" : "en";
}

let LANG = currentLanguage();

function t(key, values) {
  let text = (STRINGS[LANG] && STRINGS[LANG][key]) || STRINGS.en[key] || key;
  for (const [name, value] of Object.entries(values || {})) text = text.split(`{${name}}`).join(String(value));
  return text;
}

function label(kind, value) {
  if (value === null || value === undefined || value === "") return t("none");
  return (LABELS[LANG][kind] && LABELS[LANG][kind][value]) || (LABELS.en[kind] && LABELS.en[kind][value]) || value;
}

function applyStrings(root) {
  document.documentElement.lang = LANG;
  for (const el of (root || document).querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of (root || document).querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  }
  for (const el of (root || document).querySelectorAll("[data-i18n-placeholder]")) {
    el.setAttribute("placeholder", t(el.dataset.i18nPlaceholder));
  }
}

function switchLanguage(onChange) {
  LANG = LANG === "en" ? "hi" : "en";
  localStorage.setItem("seva.lang", LANG);
  applyStrings();
  if (onChange) onChange();
}

function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return t("none");
  const s = Math.round(seconds);
  const units = LANG === "hi" ? ["से", "मि", "घं", "दि"] : ["s", "min", "h", "d"];
  if (s < 90) return `${s} ${units[0]}`;
  if (s < 5400) return `${Math.round(s / 60)} ${units[1]}`;
  if (s < 48 * 3600) return `${(s / 3600).toFixed(1)} ${units[2]}`;
  return `${(s / 86400).toFixed(1)} ${units[3]}`;
}

function formatTime(iso) {
  if (!iso) return t("none");
  const d = new Date(iso);
  return d.toLocaleString(LANG === "hi" ? "hi-IN" : "en-IN", {
    timeZone: "Asia/Kolkata", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });
}
