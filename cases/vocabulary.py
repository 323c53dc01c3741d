"""Intake vocabulary (DESIGN section 3): code values and their English msgids."""
from workflows.i18n import N_

SOURCES = {
    "walk_in": N_("Walk-in"),
    "phone": N_("Phone call"),
    "hotline_12345": N_("12345 hotline"),
    "grid": N_("Grid worker report"),
    "online": N_("Online application"),
    "court_delegated": N_("Court delegation"),
    "police_referral": N_("Police referral"),
    "petition": N_("Petition office transfer"),
    "department": N_("Department transfer"),
    "screening": N_("Found in screening"),
}

CATEGORIES = {
    "marriage_family": N_("Marriage and family"),
    "neighbour": N_("Neighbours"),
    "housing_land": N_("Housing and homestead"),
    "contract": N_("Contract"),
    "damages": N_("Damages"),
    "business": N_("Production and business"),
    "labour": N_("Labour dispute"),
    "medical": N_("Medical"),
    "property_mgmt": N_("Property management"),
    "traffic": N_("Road traffic accident"),
    "land_acquisition": N_("Land acquisition and demolition"),
    "environment": N_("Environmental pollution"),
    "forest_land": N_("Forest and land"),
    "consumer": N_("Consumer"),
    "village_affairs": N_("Village affairs"),
    "other": N_("Other"),
}

PARTY_ROLES = {
    "applicant": N_("Applicant"),
    "respondent": N_("Respondent"),
    "third_party": N_("Third party"),
}

PARTY_KINDS = {
    "person": N_("Natural person"),
    "organisation": N_("Organisation"),
}

GENDERS = {
    "male": N_("Male"),
    "female": N_("Female"),
}

AGENT_RELATIONS = {
    "lawyer": N_("Lawyer"),
    "relative": N_("Close relative"),
    "colleague": N_("Colleague"),
    "community": N_("Recommended by community"),
    "other": N_("Other"),
}

SESSION_MODES = {
    "in_person": N_("In person"),
    "video": N_("Video"),
    "phone": N_("Phone"),
}

# The 56 ethnic groups, in the order of GB/T 3304; names are Chinese in every locale.
ETHNICITIES = (
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
    "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族",
    "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族",
    "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族",
    "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族",
    "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族",
    "基诺族",
)
