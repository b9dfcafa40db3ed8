"""The governance API: the city platform's catalogue, project plans and their acceptances, the application
registry and its overview per district."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from governance.domain.model import Acceptance, Integration, PlanContent, ProjectPlan
from governance.entrypoints.web.schemas import (
    AcceptanceSchema,
    ApplicationChangeSchema,
    ApplicationListArgs,
    ApplicationListSchema,
    ApplicationSystemSchema,
    CatalogueChangeSchema,
    CatalogueEntrySchema,
    CatalogueListArgs,
    CatalogueListSchema,
    CoverageSchema,
    PlanListArgs,
    PlanPage,
    PlanRevisionSchema,
    PlanSchema,
    SubmitSchema,
)
from governance.entrypoints.web.wiring import handlers
from governance.entrypoints.web.work_resources import WORK_BLUEPRINTS
from governance.service_layer import catalogue, plans, registry
from shared import clock
from shared.audit_listing import audit_blueprint
from shared.http import idempotent, json_response, require_if_match
from shared.pagination import time_then_id

catalogue_blp = Blueprint(
    "catalogue",
    __name__,
    url_prefix="/api/platform-catalogue",
    description="What the city platform already provides (市级平台已有功能), kept by the city bureau",
)
plans_blp = Blueprint(
    "project_plans", __name__, url_prefix="/api/project-plans", description="Project plans (信息化项目建设方案审核)"
)
applications_blp = Blueprint(
    "applications",
    __name__,
    url_prefix="/api/application-systems",
    description="The application registry (应用系统对接台账)",
)


# -- the catalogue -----------------------------------------------------------------------------------
def _entry_content(data: dict[str, Any]) -> catalogue.EntryContent:
    return catalogue.EntryContent(
        kind=data["kind"],
        name=data["name"],
        keywords=data["keywords"],
        description=data.get("description"),
        active=data["active"],
    )


@catalogue_blp.route("")
class Catalogue(MethodView):
    @catalogue_blp.arguments(CatalogueListArgs, location="query")
    @catalogue_blp.response(200, CatalogueListSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The catalogue of the city (or cities) the caller works under: what plans must not build again."""
        return {"items": handlers.call(catalogue.list_entries, active_only=args["active"])}

    @catalogue_blp.arguments(CatalogueEntrySchema)
    @catalogue_blp.response(201, CatalogueEntrySchema)
    @idempotent(handlers.session_factory)
    def post(self, data: dict[str, Any]) -> Any:
        """Add an entry (city_reviewer of the city): a function, the data center, or data the platform collects."""
        entry = handlers.call(catalogue.add_entry, data["org_code"], data["code"], _entry_content(data))
        location = url_for("catalogue.CatalogueEntryResource", entry_id=entry.id)
        return json_response(CatalogueEntrySchema().dump(entry), entry.version, 201, location)


@catalogue_blp.route("/<uuid:entry_id>")
class CatalogueEntryResource(MethodView):
    get = handlers.view(catalogue_blp, CatalogueEntrySchema, catalogue.get_entry, etag=True)

    @catalogue_blp.arguments(CatalogueChangeSchema)
    @catalogue_blp.response(200, CatalogueEntrySchema)
    def put(self, data: dict[str, Any], entry_id: uuid.UUID) -> Any:
        """Change an entry (If-Match); `active: false` takes it out of the check without losing its history."""
        entry = handlers.call(catalogue.change_entry, entry_id, require_if_match, _entry_content(data))
        return json_response(CatalogueEntrySchema().dump(entry), entry.version)


# -- project plans -----------------------------------------------------------------------------------
def _content(data: dict[str, Any]) -> PlanContent:
    return PlanContent(
        title=data["title"],
        summary=data.get("summary"),
        budget=data["budget"],
        funding_source=data["funding_source"],
        functions=data["functions"],
        data_collected=data["data_collected"],
        connects_to=data["connects_to"],
        builds_data_center=data["builds_data_center"],
        starts_on=data["starts_on"],
        ends_on=data["ends_on"],
        milestones=data["milestones"],
        attachments=data["attachments"],
    )


def _plan_body(plan: ProjectPlan, acceptances: list[Acceptance]) -> dict[str, Any]:
    body = dict(PlanSchema().dump(plan))
    body["acceptances"] = AcceptanceSchema(many=True).dump(acceptances)
    return body


@plans_blp.route("")
class Plans(MethodView):
    get = handlers.listing(
        plans_blp,
        PlanListArgs,
        PlanPage,
        plans.list_plans,
        time_then_id("created_at"),
        doc="Plans of the units in the caller's subtree, newest first.",
    )

    @plans_blp.arguments(PlanSchema)
    @plans_blp.response(201, PlanSchema)
    @idempotent(handlers.session_factory)
    def post(self, data: dict[str, Any]) -> Any:
        """Write a plan (a district bureau's county_reviewer or a school's school_admin): a draft, checked at once
        against the city platform's catalogue; `flags` lists what it duplicates."""
        plan = handlers.call(plans.create_plan, data["unit_org_code"], _content(data))
        location = url_for("project_plans.PlanResource", plan_id=plan.id)
        return json_response(_plan_body(plan, []), plan.version, 201, location)


@plans_blp.route("/<uuid:plan_id>")
class PlanResource(MethodView):
    @plans_blp.response(200, PlanSchema)
    def get(self, plan_id: uuid.UUID) -> Any:
        """The plan with its flags, its chain's decisions, the 合理化建议 and its acceptances."""
        plan, acceptances = handlers.call(plans.get_plan, plan_id)
        return json_response(_plan_body(plan, acceptances), plan.version)

    @plans_blp.arguments(PlanRevisionSchema)
    @plans_blp.response(200, PlanSchema)
    def put(self, data: dict[str, Any], plan_id: uuid.UUID) -> Any:
        """Revise a draft or a returned plan (If-Match); the duplication check runs again."""
        plan = handlers.call(plans.revise_plan, plan_id, require_if_match, _content(data))
        return json_response(_plan_body(plan, []), plan.version)


@plans_blp.route("/<uuid:plan_id>/submit")
class PlanSubmission(MethodView):
    @plans_blp.arguments(SubmitSchema)
    @plans_blp.response(200, PlanSchema)
    def post(self, data: dict[str, Any], plan_id: uuid.UUID) -> Any:
        """提交: send the plan to the city bureau (If-Match). A flagged plan needs `justification`."""
        plan = handlers.call(plans.submit_plan, plan_id, require_if_match, data.get("justification"))
        return json_response(_plan_body(plan, []), plan.version)


@plans_blp.route("/<uuid:plan_id>/acceptances")
class PlanAcceptances(MethodView):
    @plans_blp.arguments(AcceptanceSchema)
    @plans_blp.response(201, AcceptanceSchema)
    def post(self, data: dict[str, Any], plan_id: uuid.UUID) -> Any:
        """阶段性验收 or 竣工验收 of an approved plan, with its evidence (city_reviewer)."""
        acceptance = handlers.call(
            plans.record_acceptance,
            plan_id,
            data["kind"],
            data["accepted_on"],
            data["evidence"],
            data.get("opinion"),
        )
        response = current_app.response_class(
            current_app.json.dumps(AcceptanceSchema().dump(acceptance)), status=201, mimetype="application/json"
        )
        response.headers["Location"] = url_for("project_plans.PlanResource", plan_id=plan_id)
        return response


# -- the application registry ------------------------------------------------------------------------
def _details(data: dict[str, Any]) -> registry.SystemDetails:
    return registry.SystemDetails(
        name=data["name"],
        owner=data["owner"],
        purpose=data["purpose"],
        integration=Integration(data["unified_identity"], data["single_sign_on"], data["data_exchange"]),
        target_date=data.get("target_date"),
    )


@applications_blp.route("")
class Applications(MethodView):
    @applications_blp.arguments(ApplicationListArgs, location="query")
    @applications_blp.response(200, ApplicationListSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The registry lines of the caller's subtree (`?overdue=true`: only those flagged)."""
        found = handlers.call(registry.list_systems, district=args.get("district"), overdue_only=args["overdue"])
        return {"items": found}

    @applications_blp.arguments(ApplicationSystemSchema)
    @applications_blp.response(201, ApplicationSystemSchema)
    @idempotent(handlers.session_factory)
    def post(self, data: dict[str, Any]) -> Any:
        """Register a school's or district's application system with its integration status."""
        system = handlers.call(registry.register, data["org_code"], _details(data))
        location = url_for("applications.ApplicationResource", system_id=system.id)
        return json_response(ApplicationSystemSchema().dump(system), system.version, 201, location)


@applications_blp.route("/coverage")
class Coverage(MethodView):
    @applications_blp.response(200, CoverageSchema)
    def get(self) -> Any:
        """The connected share (统一身份认证 and 单点登录) per district and the overdue systems, in scope."""
        today = clock.today()
        return {"as_of": today, "districts": handlers.call(registry.overview, today)}


@applications_blp.route("/<uuid:system_id>")
class ApplicationResource(MethodView):
    get = handlers.view(applications_blp, ApplicationSystemSchema, registry.get, etag=True)

    @applications_blp.arguments(ApplicationChangeSchema)
    @applications_blp.response(200, ApplicationSystemSchema)
    def put(self, data: dict[str, Any], system_id: uuid.UUID) -> Any:
        """Update the line (If-Match): owner, purpose, integration status, target date."""
        system = handlers.call(registry.update, system_id, require_if_match, _details(data))
        return json_response(ApplicationSystemSchema().dump(system), system.version)


# GET /api/audit/governance: the audit listing every service serves the same way (shared/audit_listing.py).
# 月调度, network security work and Yichun's committee live in their own module (work_resources.py).
BLUEPRINTS = [catalogue_blp, plans_blp, applications_blp, *WORK_BLUEPRINTS, audit_blueprint("governance")]
