"""Code values of the case lifecycle and their English labels (msgids), in display order."""
from workflows.i18n import N_

STATES = {
    "registered": N_("Registered"),
    "matching": N_("Choosing a mediator"),
    "mediating": N_("In mediation"),
    "suspended": N_("Suspended"),
    "agreed": N_("Agreement reached"),
    "confirming": N_("Awaiting judicial confirmation"),
    "confirmed": N_("Judicially confirmed"),
    "terminated": N_("Mediation terminated"),
    "referred": N_("Referred"),
    "declined": N_("Declined"),
    "withdrawn": N_("Withdrawn"),
    "closed": N_("Closed and archived"),
}
TERMINAL_STATES = frozenset({"declined", "withdrawn", "closed"})

TRIGGERS = {
    "accept": N_("Accept the case"),
    "decline": N_("Decline the case"),
    "transfer": N_("Transfer to another centre"),
    "assign": N_("Assign a mediator"),
    "change_mediator": N_("Change the mediator"),
    "suspend": N_("Suspend mediation"),
    "resume": N_("Resume mediation"),
    "extend": N_("Extend the mediation period"),
    "reach_agreement": N_("Record the mediation agreement"),
    "apply_confirmation": N_("Apply for judicial confirmation"),
    "confirm": N_("Record judicial confirmation"),
    "reject_confirmation": N_("Record refusal of confirmation"),
    "terminate": N_("Terminate mediation"),
    "refer": N_("Refer to another body"),
    "withdraw": N_("Withdraw the application"),
    "follow_up": N_("Record the follow-up visit and close"),
}

MEDIATION_TYPES = {
    "people": N_("People's mediation"),
    "administrative": N_("Administrative mediation"),
    "judicial": N_("Judicial (court-invited) mediation"),
    "industry": N_("Industry and professional mediation"),
    "joint": N_("Joint mediation (3+N)"),
}

DECLINE_REASONS = {
    "not_civil_dispute": N_("Not a civil dispute"),
    "in_litigation": N_("Already in court or arbitration"),
    "party_refuses": N_("A party refuses mediation"),
    "outside_jurisdiction": N_("Outside this centre's jurisdiction"),
    "legally_barred": N_("Barred by law"),
    "other": N_("Other"),
}

REDIRECT_CHANNELS = {
    "court": N_("People's court"),
    "arbitration": N_("Arbitration"),
    "administrative": N_("Administrative authority"),
    "petition": N_("Letters and visits office"),
    "police": N_("Public security (police)"),
    "other": N_("Other"),
}

CHANGE_MEDIATOR_REASONS = {
    "party_request": N_("At a party's request"),
    "recusal": N_("Mediator recusal"),
}

SUSPEND_REASONS = {
    "appraisal": N_("Appraisal or evaluation"),
    "party_unavailable": N_("A party is temporarily unavailable"),
    "awaiting_evidence": N_("Awaiting evidence"),
    "other": N_("Other"),
}

# 人民法院在线调解规则 第二十五条, items 3-8.
TERMINATION_REASONS = {
    "unreachable": N_("A party could not be reached within the mediation period"),
    "party_unwilling": N_("A party is unwilling to continue mediation"),
    "wide_disagreement": N_("The parties disagree too widely to reach agreement"),
    "deadline_expired": N_("The mediation period expired without agreement or extension"),
    "refused_to_sign": N_("A party refused to sign the agreement"),
    "other": N_("Other circumstances that prevent mediation"),
}

REFERRAL_BODIES = {
    "court": N_("People's court"),
    "arbitration": N_("Arbitration commission"),
    "administrative": N_("Administrative body"),
}

PERFORMANCE_RESULTS = {
    "full": N_("Performed in full"),
    "partial": N_("Partly performed"),
    "none": N_("Not performed"),
}

CHOSEN_BY = {
    "parties": N_("Chosen by all parties"),
    "centre": N_("Designated by the centre"),
}

# 人民调解法 第二十九条: what a mediation agreement states.
AGREEMENT_ITEMS = {
    "facts": N_("the main facts of the dispute"),
    "disputed_matters": N_("the matters in dispute"),
    "responsibilities": N_("each party's responsibilities"),
    "terms": N_("the agreed terms"),
    "performance_method": N_("the manner of performance"),
    "performance_deadline": N_("the performance deadline"),
    "effective_on": N_("the date the agreement takes effect"),
}
