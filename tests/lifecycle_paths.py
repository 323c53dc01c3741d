"""Valid data for every trigger and the trigger path that brings a new case to each state."""
from datetime import timedelta

from conftest import TODAY


def valid_data(trigger, *, mediator_id, to_centre_id):
    return {
        "accept": {"mediation_type": "people"},
        "decline": {"reason_code": "not_civil_dispute", "redirect_channel": "court"},
        "transfer": {"to_centre_id": to_centre_id},
        "assign": {"mediator_id": mediator_id, "chosen_by": "parties", "mediator_accepted": True,
                   "conflict_declared": True, "has_conflict": False},
        "change_mediator": {"reason_code": "party_request"},
        "suspend": {"reason_code": "appraisal"},
        "resume": {},
        "extend": {"all_parties_consent": True, "days": 15},
        "reach_agreement": {"agreement": {
            "facts": "楼上漏水致楼下受损。", "disputed_matters": "维修费用承担。",
            "responsibilities": "被申请人承担主要责任。", "terms": "被申请人赔偿3000元。",
            "performance_method": "银行转账", "performance_deadline": TODAY + timedelta(days=10),
            "effective_on": TODAY}},
        "apply_confirmation": {"joint": True, "court_name": "福州市鼓楼区人民法院"},
        "confirm": {"court_name": "福州市鼓楼区人民法院", "ruling_number": "（2026）闽0102民特1号",
                    "ruling_date": TODAY},
        "reject_confirmation": {"ruling_number": "（2026）闽0102民特2号"},
        "terminate": {"reason_code": "party_unwilling", "failure_summary": "被申请人拒绝继续调解。"},
        "refer": {"body_kind": "court", "receiving_body": "福州市鼓楼区人民法院"},
        "withdraw": {"by_applicant": True},
        "follow_up": {"performance": "full"},
    }[trigger]


PATHS = {
    "registered": [],
    "matching": ["accept"],
    "mediating": ["accept", "assign"],
    "suspended": ["accept", "assign", "suspend"],
    "agreed": ["accept", "assign", "reach_agreement"],
    "confirming": ["accept", "assign", "reach_agreement", "apply_confirmation"],
    "confirmed": ["accept", "assign", "reach_agreement", "apply_confirmation", "confirm"],
    "terminated": ["accept", "assign", "terminate"],
    "referred": ["accept", "assign", "terminate", "refer"],
    "declined": ["decline"],
    "withdrawn": ["withdraw"],
    "closed": ["accept", "assign", "reach_agreement", "follow_up"],
}
