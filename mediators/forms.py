"""Forms of the expert pool: a mediator's profile, status changes, the import upload, and the
filters of the admin list and of the public pool."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, Form, IntegerField, SelectField, SelectMultipleField,
                     StringField, SubmitField, TextAreaField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.i18n import options
from app.models import Centre
from cases.forms import TEXT, TranslatedMeta, centre_choices, vocabulary_choices
from cases.vocabulary import CATEGORIES, GENDERS
from mediators.importing import Problem, split_list
from mediators.models import MEDIATOR_KINDS, MEDIATOR_STATUSES
from mediators.services import POOL_SORTS, ProfileData

WHOLE_NUMBER = _l("Enter a whole number.")


class Needed:
    """Marks a field as required (the asterisk); mediators.services checks it, so that
    every wrong field is named at once."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        pass


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProfileForm(FlaskForm):
    """A mediator's profile (DESIGN §5): public fields, then the private phone and ID."""

    name = StringField(_l("Full name"), validators=[Needed(), Length(max=64)], **TEXT)
    external_id = StringField(_l("External ID"), validators=[Length(max=64)], **TEXT)
    gender = SelectField(_l("Gender"), choices=vocabulary_choices(GENDERS, blank=""),
                         validators=[Optional()])
    kind = SelectField(_l("Type of mediator"), choices=vocabulary_choices(MEDIATOR_KINDS),
                       validators=[InputRequired()])
    organisation = StringField(_l("Employer or organisation"), validators=[Length(max=128)],
                               **TEXT)
    centre_id = SelectField(_l("Home centre"), coerce=int, validators=[Needed()])
    served_centre_ids = SelectMultipleField(_l("Centres served"), coerce=int,
                                            validators=[Optional()])
    specialties = CheckboxesField(_l("Specialties"), choices=vocabulary_choices(CATEGORIES),
                                  validators=[Optional()])
    languages = StringField(_l("Languages and dialects"), validators=[Length(max=255)], **TEXT)
    years_experience = IntegerField(_l("Years of experience"), default=0,
                                    validators=[InputRequired(WHOLE_NUMBER)])
    capacity = IntegerField(_l("Maximum concurrent cases"), default=10,
                            validators=[InputRequired(WHOLE_NUMBER)])
    status = SelectField(_l("Status"), choices=vocabulary_choices(MEDIATOR_STATUSES),
                         validators=[InputRequired()])
    credentials = TextAreaField(_l("Credentials"), validators=[Length(max=2000)], **TEXT)
    biography = TextAreaField(_l("Biography"), validators=[Length(max=5000)], **TEXT)
    phone = StringField(_l("Phone"), validators=[Length(max=32)], **TEXT)
    id_number = StringField(_l("ID number"), validators=[Length(max=18)], **TEXT)
    submit = SubmitField(_l("Save the profile"))

    def __init__(self, centres: list[Centre], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.centre_id.choices = options(centre_choices(centres))
        self.served_centre_ids.choices = options(centre_choices(centres))
        self.other_errors: list[str] = []

    @classmethod
    def from_profile(cls, centres: list[Centre], data: ProfileData) -> ProfileForm:
        return cls(centres, name=data.name, external_id=data.external_id, gender=data.gender,
                   kind=data.kind, organisation=data.organisation, centre_id=data.centre_id,
                   served_centre_ids=list(data.served_centre_ids),
                   specialties=list(data.specialties), languages="、".join(data.languages),
                   years_experience=data.years_experience, capacity=data.capacity,
                   status=data.status, credentials=data.credentials, biography=data.biography,
                   phone=data.phone, id_number=data.id_number)

    def profile_data(self, kept_served_ids: tuple[int, ...] = ()) -> ProfileData:
        """The entered profile; `kept_served_ids` are centres served outside the user's view,
        which the form does not list and so keeps."""
        return ProfileData(
            name=self.name.data or "", external_id=self.external_id.data or None,
            gender=self.gender.data or None, kind=self.kind.data,
            organisation=self.organisation.data or None, centre_id=self.centre_id.data,
            served_centre_ids=tuple(self.served_centre_ids.data or ()) + kept_served_ids,
            specialties=tuple(self.specialties.data or ()),
            languages=tuple(split_list(self.languages.data or "")),
            years_experience=self.years_experience.data, capacity=self.capacity.data,
            status=self.status.data, credentials=self.credentials.data or "",
            biography=self.biography.data or "", phone=self.phone.data or None,
            id_number=self.id_number.data or None)

    def show_problems(self, problems: list[Problem]) -> None:
        """Put the service's messages beside their fields (one message per field)."""
        for problem in problems:
            if problem.field in self._fields and problem.field != "submit":
                if not self[problem.field].errors:
                    self[problem.field].errors = [problem.text()]
            else:
                self.other_errors.append(problem.text())

    def first_error_id(self) -> str | None:
        return next((f.id for f in self if f.errors), None)


class StatusForm(FlaskForm):
    """Change a mediator's status (active, on leave, retired)."""

    status = SelectField(_l("Status"), choices=vocabulary_choices(MEDIATOR_STATUSES),
                         validators=[InputRequired()])


class UploadForm(FlaskForm):
    """The spreadsheet to preview before importing."""

    file = FileField(_l("CSV or XLSX file"))


class ConfirmForm(FlaskForm):
    """Confirms an import after the preview (the file itself stays on the server)."""

    submit = SubmitField(_l("Import the good rows"))


class QueryForm(Form):
    """Filters read from the query string: a bad value is dropped, never fatal."""

    class Meta(TranslatedMeta):
        csrf = False

    page = IntegerField(_l("Page"), validators=[Optional(), NumberRange(min=1, max=1_000_000)])

    def value(self, field):
        return None if field.errors else (field.data or None)

    def page_number(self) -> int:
        return self.value(self.page) or 1

    def args(self) -> dict[str, str]:
        """The valid filters as query-string arguments (for the pager)."""
        return {f.name: ("1" if f.data is True else str(f.data)) for f in self
                if f.name != "page" and not f.errors and f.data not in (None, "", False)}


class ManagedFilterForm(QueryForm):
    """The admin list's search and filters."""

    q = StringField(_l("Search"), validators=[Length(max=100)], **TEXT)
    status = SelectField(_l("Status"), validators=[Optional()],
                         choices=vocabulary_choices(MEDIATOR_STATUSES, _l("All")))
    centre = SelectField(_l("Home centre"), validators=[Optional()])

    def __init__(self, formdata, centres: list[Centre]):
        super().__init__(formdata)
        self.centre.choices = options(((str(c), label) for c, label in centre_choices(centres)),
                                      blank=_l("All"))
        self.validate()


class PoolFilterForm(QueryForm):
    """The public pool's search, filters and sort order."""

    q = StringField(_l("Full name"), validators=[Length(max=64)], **TEXT)
    category = SelectField(_l("Specialty"), validators=[Optional()],
                           choices=vocabulary_choices(CATEGORIES, _l("Any")))
    kind = SelectField(_l("Type of mediator"), validators=[Optional()],
                       choices=vocabulary_choices(MEDIATOR_KINDS, _l("Any")))
    centre = SelectField(_l("Area served"), validators=[Optional()])
    language = SelectField(_l("Language or dialect"), validators=[Optional()])
    available = BooleanField(_l("Only mediators taking new cases"))
    sort = SelectField(_l("Sort by"), validators=[Optional()], choices=options([
        ("recommended", _l("Recommended")), ("settlement", _l("Settlement rate")),
        ("experience", _l("Experience"))]))

    def __init__(self, formdata, centres: list[Centre], languages: list[str]):
        super().__init__(formdata)
        self.centre.choices = options(((str(c), label) for c, label in centre_choices(centres)),
                                      blank=_l("Anywhere"))
        self.language.choices = options(((x, x) for x in languages), blank=_l("Any"))
        self.validate()

    @property
    def narrowed(self) -> bool:
        """True when a filter besides the name is set (the filter panel opens)."""
        return any(not f.errors and f.data not in (None, "", False)
                   for f in (self.category, self.kind, self.centre, self.language,
                             self.available))

    def sort_value(self) -> str:
        sort = self.value(self.sort)
        return sort if sort in POOL_SORTS else "recommended"
