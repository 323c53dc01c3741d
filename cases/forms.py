"""Forms of the clerk's pages: the intake form (登记) with its parties, and the case list filters."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from flask_babel import gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import (BooleanField, DateField, DecimalField, FieldList, Form, FormField,
                     IntegerField, SelectField, StringField, SubmitField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange, Optional,
                                StopValidation, ValidationError)

from app.i18n import options
from app.models import Centre
from cases import validators
from cases.queries import OPEN, SORTS, CaseFilters
from cases.services import source_ref_taken
from cases.services import IntakeData, PartyData
from cases.vocabulary import (AGENT_RELATIONS, CATEGORIES, ETHNICITIES, GENDERS, PARTY_KINDS,
                              PARTY_ROLES, SOURCES)
from workflows.i18n import N_
from workflows.vocabulary import MEDIATION_TYPES, STATES

MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_PARTIES = 20
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(value):
    """Strip spaces and control characters (a NUL would make PostgreSQL refuse the row)."""
    return CONTROL_CHARS.sub("", value).strip() if isinstance(value, str) else value


def vocabulary_choices(vocabulary, blank=None) -> list[SelectChoice]:
    """Options whose labels translate when rendered (safe at class level)."""
    return options(((code, _l(msgid)) for code, msgid in vocabulary.items()), blank)


def centre_choices(centres: list[Centre]) -> list[tuple[int, str]]:
    """Centres indented by their depth below the first (the user's own centre)."""
    top = centres[0].path.count("/") if centres else 0
    return [(c.id, "\u3000" * (c.path.count("/") - top) + c.name) for c in centres]


def amount_in_yuan(form, field):
    """0 to the column's maximum, in yuan and fen (no "NaN", no third decimal)."""
    value = field.data
    if value is None:
        return
    if not value.is_finite() or not 0 <= value <= MAX_AMOUNT:
        raise StopValidation(_l("Enter an amount between 0 and 999,999,999,999.99 yuan."))
    if value != value.quantize(Decimal("0.01")):
        raise StopValidation(_l("Enter the amount with at most two decimals, such as 3000.50."))


TEXT = {"filters": [clean]}
CHOOSE = _l("— choose —")


class TranslatedMeta:
    """Plain (sub)forms get WTForms' own messages ("Not a valid date value.") translated too."""

    def get_translations(self, form):
        return wtforms_translations


class PartyForm(Form):
    """One party's particulars (当事人): a natural person or an organisation, and their agent."""

    class Meta(TranslatedMeta):
        pass

    role = SelectField(_l("Role"), choices=vocabulary_choices(PARTY_ROLES),
                       validators=[InputRequired()])
    kind = SelectField(_l("Kind"), choices=vocabulary_choices(PARTY_KINDS),
                       validators=[InputRequired()])
    name = StringField(_l("Name"), validators=[InputRequired(_l("Enter the party's name.")),
                                               Length(max=128)], **TEXT)
    gender = SelectField(_l("Gender"), choices=vocabulary_choices(GENDERS, blank=""),
                         validators=[Optional()])
    ethnicity = SelectField(_l("Ethnicity"), validators=[Optional()],
                            choices=options(((e, e) for e in ETHNICITIES), blank=""))
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    id_number = StringField(_l("ID number"), validators=[Length(max=18)], **TEXT)
    occupation = StringField(_l("Occupation"), validators=[Length(max=64)], **TEXT)
    credit_code = StringField(_l("Unified social credit code"), validators=[Length(max=18)],
                              **TEXT)
    legal_representative = StringField(_l("Legal representative"),
                                       validators=[Length(max=64)], **TEXT)
    phone = StringField(_l("Phone"), validators=[Length(max=32)], **TEXT)
    address = StringField(_l("Address"), validators=[Length(max=255)], **TEXT)
    refuses_mediation = BooleanField(_l("Refuses mediation"))
    agent_name = StringField(_l("Agent's name"), validators=[Length(max=64)], **TEXT)
    agent_id_number = StringField(_l("Agent's ID number"), validators=[Length(max=18)], **TEXT)
    agent_phone = StringField(_l("Agent's phone"), validators=[Length(max=32)], **TEXT)
    agent_relation = SelectField(_l("Agent's relation to the party"),
                                 choices=vocabulary_choices(AGENT_RELATIONS, blank=""),
                                 validators=[Optional()])
    remove = SubmitField(_l("Remove this party"))

    @property
    def is_person(self) -> bool:
        return self.kind.data != "organisation"

    @property
    def has_agent(self) -> bool:
        return any(f.data or f.errors for f in (self.agent_name, self.agent_id_number,
                                                self.agent_phone, self.agent_relation))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        problems = (self.person_problems() if self.is_person else self.organisation_problems())
        problems += self.contact_problems()
        for field, message in problems:
            field.errors = list(field.errors) + [gettext(message)]
        return valid and not problems

    def person_problems(self) -> list:
        problems = []
        if self.id_number.data:
            problem = validators.id_number_problem(self.id_number.data)
            if problem:
                problems.append((self.id_number, problem))
            elif self.birth_date.data and self.birth_date.data != validators.birth_date_from_id(
                    validators.normalise_id_number(self.id_number.data)):
                problems.append(
                    (self.birth_date, N_("The birth date does not match the ID number.")))
        if self.birth_date.data and not date(1900, 1, 1) <= self.birth_date.data <= date.today():
            problems.append((self.birth_date, N_("Enter a birth date between 1900 and today.")))
        return problems

    def organisation_problems(self) -> list:
        problem = self.credit_code.data and validators.credit_code_problem(self.credit_code.data)
        return [(self.credit_code, problem)] if problem else []

    def contact_problems(self) -> list:
        problems = []
        if self.phone.data:
            problem = validators.phone_problem(self.phone.data)
            if problem:
                problems.append((self.phone, problem))
        elif self.role.data == "applicant":
            problems.append((self.phone, N_("Enter the applicant's phone number.")))
        if self.agent_id_number.data:
            problem = validators.id_number_problem(self.agent_id_number.data)
            if problem:
                problems.append((self.agent_id_number, problem))
        if self.agent_phone.data and validators.phone_problem(self.agent_phone.data):
            problems.append((self.agent_phone, validators.phone_problem(self.agent_phone.data)))
        if not self.agent_name.data and (self.agent_id_number.data or self.agent_phone.data):
            problems.append((self.agent_name, N_("Enter the agent's name.")))
        return problems

    def party_data(self) -> PartyData:
        """The particulars for the intake service; fields of the other kind are dropped."""
        person = self.is_person
        return PartyData(
            role=self.role.data, kind="person" if person else "organisation",
            name=self.name.data,
            gender=(self.gender.data or None) if person else None,
            ethnicity=(self.ethnicity.data or None) if person else None,
            birth_date=self.birth_date.data if person else None,
            id_number=(validators.normalise_id_number(self.id_number.data) or None)
            if person else None,
            occupation=(self.occupation.data or None) if person else None,
            credit_code=None if person
            else (validators.normalise_credit_code(self.credit_code.data) or None),
            legal_representative=None if person else (self.legal_representative.data or None),
            phone=self.phone.data or None, address=self.address.data or None,
            refuses_mediation=bool(self.refuses_mediation.data),
            agent_name=self.agent_name.data or None,
            agent_id_number=(validators.normalise_id_number(self.agent_id_number.data) or None),
            agent_phone=self.agent_phone.data or None,
            agent_relation=self.agent_relation.data or None)


NEW_PARTIES = [{"role": "applicant", "kind": "person"}, {"role": "respondent", "kind": "person"}]


class IntakeForm(FlaskForm):
    """Registering a dispute (纠纷登记): where it came from, what it is about, and who is in it."""

    centre_id = SelectField(_l("Centre"), coerce=int, validators=[InputRequired()])
    source = SelectField(_l("Source"), choices=vocabulary_choices(SOURCES),
                         validators=[InputRequired()], default="walk_in")
    source_ref = StringField(_l("Source reference"), validators=[Length(max=128)], **TEXT)
    category = SelectField(_l("Category"), choices=vocabulary_choices(CATEGORIES, blank=CHOOSE),
                           validators=[DataRequired(_l("Choose the category of the dispute."))])
    mediation_type = SelectField(_l("Mediation type"),
                                 choices=vocabulary_choices(MEDIATION_TYPES, blank=""),
                                 validators=[Optional()])
    amount = DecimalField(_l("Amount in dispute (yuan)"), places=2,
                          validators=[Optional(), amount_in_yuan])
    facts = TextAreaField(_l("Facts"), validators=[
        DataRequired(_l("Describe what happened.")), Length(max=20000)], **TEXT)
    claims = TextAreaField(_l("Claims"), validators=[
        DataRequired(_l("State what the applicant asks for.")), Length(max=20000)], **TEXT)
    parties = FieldList(FormField(PartyForm), min_entries=2, max_entries=MAX_PARTIES)
    add_party = SubmitField(_l("Add another party"))
    submit = SubmitField(_l("Register the dispute"))

    def __init__(self, centres: list[Centre], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.centre_id.choices = options(centre_choices(centres))
        self.party_errors: list[str] = []

    def validate_source_ref(self, field):
        # Only for a real channel: a forged one (a NUL, say) is the source field's own error,
        # and PostgreSQL would refuse to even look it up.
        if field.data and self.source.data in SOURCES and source_ref_taken(self.source.data,
                                                                           field.data):
            raise ValidationError(_l("A case from this source already has this reference."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        roles = [entry.form.role.data for entry in self.parties]
        if "applicant" not in roles:
            self.party_errors.append(gettext("Add at least one applicant."))
        elif "respondent" not in roles:
            self.party_errors.append(
                gettext("Add at least one respondent: a dispute needs another side."))
        return valid and not self.party_errors

    def edit_parties(self, role: str | None) -> bool:
        """Apply an "add party" or "remove" button; True when one was pressed."""
        for entry in list(self.parties.entries):
            if entry.form.remove.data:
                self.parties.entries.remove(entry)
                return True
        if self.add_party.data:
            if len(self.parties.entries) < MAX_PARTIES:
                self.parties.append_entry({"role": role if role in PARTY_ROLES else "respondent",
                                           "kind": "person"})
            return True
        return False

    def intake_data(self) -> IntakeData:
        return IntakeData(
            centre_id=self.centre_id.data, source=self.source.data,
            category=self.category.data, facts=self.facts.data, claims=self.claims.data,
            parties=[entry.form.party_data() for entry in self.parties],
            mediation_type=self.mediation_type.data or None, amount=self.amount.data,
            source_ref=self.source_ref.data or None)

    def show_service_errors(self, errors: dict[str, str]) -> None:
        """Show the intake service's messages ("parties", "parties-<i>", field names) in place."""
        for key, msgid in errors.items():
            message = gettext(msgid)
            if key.startswith("parties-") and key[8:].isdigit() \
                    and int(key[8:]) < len(self.parties.entries):
                entry = self.parties.entries[int(key[8:])].form
                entry.name.errors = list(entry.name.errors) + [message]
            elif key in self._fields and key not in ("parties", "add_party", "submit"):
                self[key].errors = list(self[key].errors) + [message]
            else:
                self.party_errors.append(message)

    def first_error_id(self) -> str | None:
        """The id of the first field with a message, to put the cursor there."""
        for name in ("centre_id", "source", "source_ref", "category", "mediation_type",
                     "amount", "facts", "claims"):
            if self[name].errors:
                return self[name].id
        for entry in self.parties:
            for field in entry.form:
                if field.errors:
                    return field.id
        return None


class CaseFilterForm(Form):
    """The case list's filters, read from the query string; a bad value is dropped, not fatal."""

    class Meta(TranslatedMeta):
        csrf = False

    q = StringField(_l("Search"), validators=[Length(max=100)], **TEXT)
    state = SelectField(_l("State"), validators=[Optional()], choices=(
        options([(OPEN, _l("Open (not finished)"))], blank=_l("All states"))
        + vocabulary_choices(STATES)))
    category = SelectField(_l("Category"), choices=vocabulary_choices(CATEGORIES, _l("All")),
                           validators=[Optional()])
    source = SelectField(_l("Source"), choices=vocabulary_choices(SOURCES, _l("All")),
                         validators=[Optional()])
    centre = SelectField(_l("Centre"), validators=[Optional()])
    mediator = SelectField(_l("Mediator"), validators=[Optional()])
    due = SelectField(_l("Deadline"), validators=[Optional()], choices=options(
        [("overdue", _l("Overdue")), ("due_soon", _l("Due soon"))], blank=_l("Any")))
    registered_from = DateField(_l("Registered from"), validators=[Optional()])
    registered_to = DateField(_l("Registered to"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), validators=[Optional()], choices=options([
        ("due", _l("Due date (earliest first)")),
        ("registered", _l("Registration (newest first)"))]))
    page = IntegerField(_l("Page"), validators=[Optional(), NumberRange(min=1, max=1_000_000)])

    def __init__(self, formdata, centres, mediators):
        super().__init__(formdata)
        self.centre.choices = options(
            ((str(c), label) for c, label in centre_choices(centres)), blank=_l("All"))
        self.mediator.choices = options(((str(m.id), m.name) for m in mediators), blank=_l("All"))
        self.validate()
        self.ignored = [field for field in self if field.errors]

    def filters(self) -> CaseFilters:
        """The valid filters; a field with an error counts as not given."""
        def value(field):
            return None if field.errors else (field.data or None)
        return CaseFilters(
            state=value(self.state), category=value(self.category), source=value(self.source),
            centre_id=int(value(self.centre)) if value(self.centre) else None,
            mediator_id=int(value(self.mediator)) if value(self.mediator) else None,
            registered_from=value(self.registered_from), registered_to=value(self.registered_to),
            q=value(self.q), due=value(self.due),
            sort=value(self.sort) if value(self.sort) in SORTS else "due")

    def page_number(self) -> int:
        return 1 if self.page.errors or not self.page.data else self.page.data

    def args(self) -> dict[str, str]:
        """The valid filters as query-string arguments (for the pager and sort links)."""
        args = {}
        for field in self:
            if field.name != "page" and not field.errors and field.data not in (None, ""):
                args[field.name] = (field.data.isoformat() if isinstance(field.data, date)
                                    else str(field.data))
        return args
