#!/usr/bin/env python3
"""Generate the table-retrieval corpus: two large enterprise schemas and questions.

    python3 tests/retrieval/generate.py tests/retrieval/

writes into the given directory:

  erp_pg.sql       PostgreSQL 15 DDL, ~2,000 tables in schema public (connection "erp")
  crm_mariadb.sql  MariaDB 10.11 DDL, ~500 tables in one database  (connection "crm")
  questions.tsv    question <TAB> comma-separated needed tables (erp.<t> / crm.<t>)
  README.md        what the files are and their counts

Python 3.11 standard library only, deterministic (fixed seed, no clock, no
environment).  The hand-written "core" tables below carry the business
meaning; the questions are written next to the tables they are about and name
them by key, so every needed table is guaranteed to exist (asserted in
check_questions).  The remaining tables are generated around the core tables:
satellites that really belong to the schema (notes, attachments, status logs,
custom fields, link tables, ...) and noise copies that look alike (history,
staging, tmp, backup, archive, audit, integration and reporting copies).  No
question needs a generated table.
"""

import os
import random
import re
import sys

SEED = 20240611
ERP_TARGET_TABLES = 2000
NOISE_BOOST = 1.8      # scales the ERP noise-copy probabilities
CRM_NOISE_BOOST = 1.5  # same for the CRM
# ERP tables that get yearly split copies (<table>_2019, ...): transactional ones only
TRANSACTIONAL = re.compile(r"(?:^|_)(invoice|order|journal|movement|event|entry|line|shipment|leave|attendance|"
                           r"payment|receipt|usage|timesheet|charge|slip|booking|login_audit|statement|ticket|"
                           r"incident|claim|record|issue|txn|commission|return|quote|cycle_count|allocation|"
                           r"notice|credit_note)(?:_|$)")
# CRM entities that get the full set of SuiteCRM-style satellites and relationship tables
CRM_MAIN = {"accounts", "contacts", "leads", "opportunities", "campaigns", "tickets", "calls",
            "meetings", "tasks", "quotes", "contracts", "products", "emails", "partners",
            "shop_customers", "shop_orders", "shop_products", "crm_users"}
CRM_TARGET_TABLES = 500
MAX_COLS = 25          # including id
MIN_COLS = 4           # including id (id + at least 3 columns)

# --------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------

SIMPLE_TYPES = {
    "i": ("int",), "bi": ("bigint",),
    "n": ("num", 12, 2), "n4": ("num", 18, 4), "q": ("num", 14, 3),
    "p": ("num", 5, 2), "g": ("num", 9, 6),
    "t": ("text",), "d": ("date",), "ts": ("ts",), "b": ("bool",),
}


class Col:
    __slots__ = ("name", "typ", "ref", "comment", "notnull", "default")

    def __init__(self, name, typ, ref=None, comment=None, notnull=False, default=None):
        self.name, self.typ, self.ref = name, typ, ref
        self.comment, self.notnull, self.default = comment, notnull, default

    def copy(self):
        return Col(self.name, self.typ, self.ref, self.comment, self.notnull, self.default)


class Table:
    def __init__(self, name, comment, cols, kind="core", pk="big", camel=False):
        self.name, self.comment, self.cols = name, comment, cols
        self.kind = kind          # core | lookup | sat | noise
        self.pk = pk              # big | int
        self.camel = camel        # camelCase audit columns
        self.domain = None
        self.pk_style = None      # rendering flavour, set later

    def colnames(self):
        return ["id"] + [c.name for c in self.cols]


def parse_type(tok):
    if tok in SIMPLE_TYPES:
        return SIMPLE_TYPES[tok]
    m = re.fullmatch(r"v(\d+)", tok)
    if m:
        return ("varchar", int(m.group(1)))
    raise ValueError("unknown type token %r" % tok)


def parse_cols(spec, fk_defaults):
    """'name type [!] [#comment]; name ->table; name' (FK inferred by name)."""
    cols = []
    for part in spec.split(";"):
        part = part.strip()
        if not part:
            continue
        comment = None
        if "#" in part:
            part, comment = part.split("#", 1)
            comment = comment.strip()
        toks = part.split()
        name, rest = toks[0], toks[1:]
        notnull = False
        if rest and rest[-1] == "!":
            notnull, rest = True, rest[:-1]
        if not rest:
            if name not in fk_defaults:
                raise ValueError("column %r needs a type" % name)
            cols.append(Col(name, None, fk_defaults[name], comment, notnull))
        elif rest[0].startswith("->"):
            cols.append(Col(name, None, rest[0][2:], comment, notnull))
        else:
            cols.append(Col(name, parse_type(rest[0]), None, comment, notnull))
    return cols


class Domain:
    def __init__(self, code, title, tables, questions):
        self.code, self.title, self.tables, self.questions = code, title, tables, questions
        for t in tables:
            t.domain = code


# Deferred table constructors: column specs are parsed per database (FK defaults differ).
def T(name, comment, spec, camel=False):
    return ("T", name, comment, spec, camel)


def L(name, comment, extra=""):
    return ("L", name, comment, extra, False)


def build_tables(raw, fk_defaults, camel_db=False):
    out = []
    for kind, name, comment, spec, camel in raw:
        if kind == "T":
            t = Table(name, comment, parse_cols(spec, fk_defaults), "core", "big", camel)
        else:
            if camel:
                base = "code v20 !; name v120 !; description v255; isActive b; sortOrder i"
            else:
                base = "code v20 !; name v120 !; description v255; is_active b; sort_order i"
            cols = parse_cols(base + ";" + spec, fk_defaults)
            t = Table(name, comment, cols, "lookup", "int", camel)
        out.append(t)
    return out


# --------------------------------------------------------------------------
# ERP (PostgreSQL) core schema.  Prefix = business domain.
# --------------------------------------------------------------------------

ERP_FK = {
    "employee_id": "hr_employee", "department_id": "hr_department",
    "job_title_id": "hr_job_title", "company_id": "org_company",
    "location_id": "org_location", "cost_center_id": "org_cost_center",
    "currency_id": "ref_currency", "country_id": "ref_country", "uom_id": "ref_uom",
    "customer_id": "sales_customer", "supplier_id": "pur_supplier",
    "item_id": "inv_item", "warehouse_id": "wh_warehouse", "bin_id": "wh_bin",
    "lot_id": "inv_lot", "carrier_id": "log_carrier", "project_id": "prj_project",
    "asset_id": "ast_asset", "gl_account_id": "fin_gl_account",
    "journal_id": "fin_gl_journal", "payment_term_id": "fin_payment_term",
    "tax_code_id": "fin_tax_code", "fiscal_period_id": "fin_fiscal_period",
    "fiscal_year_id": "fin_fiscal_year", "sales_order_id": "sales_order",
    "order_line_id": "sales_order_line", "shipment_id": "log_shipment",
    "work_order_id": "mfg_work_order", "work_center_id": "mfg_work_center",
    "machine_id": "mfg_machine", "bom_id": "mfg_bom", "routing_id": "mfg_routing",
    "pay_run_id": "pay_run", "regulation_id": "cmp_regulation",
    "control_id": "cmp_control", "policy_id": "cmp_policy",
    "campaign_id": "mkt_campaign", "sales_rep_id": "hr_employee",
    "owner_id": "hr_employee", "manager_id": "hr_employee",
    "approved_by_id": "hr_employee", "technician_id": "hr_employee",
    "vehicle_id": "log_vehicle", "driver_id": "hr_employee", "route_id": "log_route",
    "building_id": "fac_building", "room_id": "fac_room", "folder_id": "doc_folder",
    "user_id": "sys_user", "role_id": "sys_role", "territory_id": "sales_territory",
    "course_id": "hr_training_course", "skill_id": "hr_skill",
    "leave_type_id": "hr_leave_type", "benefit_plan_id": "hr_benefit_plan",
    "applicant_id": "hr_applicant", "inspection_id": "qm_inspection",
    "inspection_plan_id": "qm_inspection_plan", "nonconformance_id": "qm_nonconformance",
    "engagement_id": "aud_engagement", "finding_id": "aud_finding",
    "payment_id": "ap_payment", "statement_id": "fin_bank_statement",
    "budget_id": "fin_budget", "task_id": "prj_task",
    "price_list_id": "sales_price_list", "quote_id": "sales_quote",
    "return_id": "sales_return", "po_id": "pur_order", "po_line_id": "pur_order_line",
    "rfq_id": "pur_rfq", "cycle_count_id": "inv_cycle_count", "zone_id": "wh_zone",
    "pick_list_id": "wh_pick_list", "report_id": "exp_report",
    "pay_slip_id": "pay_slip", "serial_number_id": "inv_serial_number",
    "maintenance_plan_id": "ast_maintenance_plan", "ticket_id": "hd_ticket",
    "opportunity_id": "crm_opportunity", "account_id": "crm_acct",
    "author_id": "hr_employee", "requester_id": "hr_employee",
    "assigned_to_id": "hr_employee", "assignee_id": "hr_employee",
    "reviewer_id": "hr_employee", "interviewer_id": "hr_employee",
    "inspector_id": "hr_employee", "picker_id": "hr_employee",
    "operator_id": "hr_employee", "buyer_id": "hr_employee",
    "hiring_manager_id": "hr_employee", "custodian_id": "hr_employee",
    "posted_by_id": "sys_user", "uploaded_by_id": "sys_user",
    "processed_by_id": "sys_user", "granted_by_id": "sys_user",
    "changed_by_id": "sys_user", "tester_id": "hr_employee",
    "auditor_id": "hr_employee", "approver_id": "hr_employee",
}

ERP_DOMAINS_RAW = [
    ("ref", "Reference data", [
        L("ref_country", "countries (ISO 3166 country list)",
          "iso2 v2 !; iso3 v3; world_region v40; is_eu_member b"),
        L("ref_currency", "currencies (ISO 4217 codes such as EUR, USD)",
          "symbol v5; minor_units i"),
        T("ref_exchange_rate", "daily foreign exchange rates used to convert currencies",
          "from_currency_id ->ref_currency !; to_currency_id ->ref_currency !; rate_date d !;"
          " rate n4 ! #units of target currency per 1 unit of source currency; rate_source v40"),
        L("ref_uom", "units of measure (pieces, kg, litre, hour)",
          "uom_class v20 #weight, volume, length, time, count; base_factor n4"),
        T("ref_public_holiday", "bank holidays / non-working days per country",
          "country_id !; holiday_date d !; holiday_name v120; is_half_day b"),
    ], [
        ("how did the euro to US dollar exchange rate develop during {year}",
         "ref_exchange_rate,ref_currency"),
        ("which public holidays fall on a weekday in {country} in {year}",
         "ref_public_holiday,ref_country"),
    ]),
    ("org", "Organisation", [
        T("org_company", "legal entities / group companies (subsidiaries of the group)",
          "company_code v10 !; legal_name v200 !; tax_number v40 #VAT registration number;"
          " country_id; base_currency_id ->ref_currency #functional currency of the entity;"
          " parent_company_id ->org_company #holding company; founded_on d"),
        T("org_business_unit", "divisions / business units of a company",
          "company_id !; bu_code v20 !; bu_name v120; head_employee_id ->hr_employee"),
        T("org_cost_center", "cost centres used for internal cost allocation",
          "company_id; cost_center_code v20 !; cost_center_name v120;"
          " business_unit_id ->org_business_unit; responsible_employee_id ->hr_employee"
          " #manager accountable for the cost centre budget; valid_from d; valid_to d"),
        T("org_location", "sites, offices, plants and shops of the group",
          "company_id; location_code v20 !; location_name v120;"
          " location_kind v20 #office, plant, warehouse, store; street v200; city v100;"
          " postal_code v20; country_id; latitude g; longitude g; opened_on d"),
    ], [
        ("list every cost centre with the name of the manager responsible for it",
         "org_cost_center,hr_employee"),
        ("which subsidiaries belong to the group and in which currency do they report",
         "org_company,ref_currency"),
    ]),
    ("hr", "Human resources", [
        T("hr_department", "organisational departments (teams) of the company",
          "department_code v20 !; department_name v120 !;"
          " parent_department_id ->hr_department; cost_center_id;"
          " manager_employee_id ->hr_employee #head of department; location_id"),
        T("hr_job_title", "job positions / roles (e.g. accountant, warehouse operator)",
          "title_code v20 !; title_name v120 !; job_family v60; grade_level i #pay grade;"
          " is_managerial b"),
        T("hr_employee", "staff members / personnel records (people employed by us)",
          "employee_no v20 ! #personnel number; first_name v80 !; last_name v80 !;"
          " work_email v255; phone_number v40; birth_date d; gender v10;"
          " hire_date d ! #date of joining; termination_date d #last working day;"
          " department_id; job_title_id; manager_id #direct supervisor; location_id;"
          " company_id; employment_type v20 #full-time, part-time, contractor, intern;"
          " annual_salary n #gross base pay per year; salary_currency_id ->ref_currency;"
          " is_active b"),
        L("hr_leave_type", "kinds of absence: vacation, sick leave, parental leave, unpaid leave",
          "is_paid b; max_days_per_year i"),
        T("hr_employee_leave", "leave / absence requests and approved time off",
          "employee_id !; leave_type_id !; start_date d !; end_date d !;"
          " days_taken n #number of working days absent;"
          " request_status v20 #requested, approved, rejected, cancelled;"
          " approved_by_id; approved_at ts; reason t"),
        T("hr_leave_balance", "remaining holiday entitlement (vacation days) per employee and year",
          "employee_id !; leave_type_id; balance_year i !; entitled_days n; used_days n;"
          " carried_over_days n #unused days brought forward from last year"),
        T("hr_employment_contract", "employment contracts (terms of employment)",
          "employee_id !; contract_no v30; contract_kind v30 #permanent, fixed-term, internship;"
          " start_date d; end_date d; weekly_hours n; probation_end_date d;"
          " notice_period_days i; signed_on d"),
        T("hr_training_course", "training catalogue / courses offered to staff",
          "course_code v20 !; course_title v200 !; provider_name v120; duration_hours n;"
          " cost_per_participant n; is_mandatory b #compliance training everybody must take;"
          " course_category v60"),
        T("hr_training_enrollment", "employees booked on training sessions (course attendance)",
          "course_id !; employee_id !; session_date d;"
          " enrollment_status v20 #booked, attended, no-show, cancelled; completed_on d;"
          " test_score p; certificate_no v40"),
        T("hr_performance_review", "annual appraisals / performance evaluations",
          "employee_id !; reviewer_id; review_period v20 #e.g. 2024-H1; review_date d;"
          " overall_rating i #1 (poor) to 5 (outstanding); goals_met_pct p;"
          " reviewer_comments t; promotion_recommended b"),
        T("hr_job_requisition", "open positions / vacancies to be filled (hiring requests)",
          "requisition_no v20 !; department_id; job_title_id; hiring_manager_id; opened_on d;"
          " target_start_date d; headcount i; requisition_status v20 #open, on hold, filled, cancelled;"
          " budgeted_salary n; closed_on d"),
        T("hr_applicant", "job candidates (applications received)",
          "requisition_id ->hr_job_requisition; first_name v80; last_name v80; email v255;"
          " applied_on d; source_channel v40 #job board, referral, agency, career site;"
          " application_stage v30 #screening, interview, offer, hired, rejected;"
          " expected_salary n; hired_employee_id ->hr_employee"),
        T("hr_interview", "interviews scheduled with candidates",
          "applicant_id !; interviewer_id; scheduled_at ts; interview_round i;"
          " interview_mode v20 #onsite, video, phone; score i; recommendation v20"),
        L("hr_skill", "skills and competencies catalogue (languages, software, certificates)",
          "skill_group v60"),
        T("hr_employee_skill", "skills matrix: proficiency of employees per skill",
          "employee_id !; skill_id !; proficiency_level i #1 (basic) to 5 (expert);"
          " is_certified b; assessed_on d"),
        T("hr_timesheet", "weekly timesheets submitted by employees (hours worked)",
          "employee_id !; week_start_date d !; total_hours n; overtime_hours n;"
          " timesheet_status v20; submitted_at ts; approved_by_id"),
        T("hr_benefit_plan", "employee benefits (health insurance, pension, company car)",
          "plan_code v20 !; plan_name v120; benefit_category v40; provider_name v120;"
          " employer_cost_monthly n"),
        T("hr_benefit_enrollment", "which employees are enrolled in which benefit plans",
          "employee_id !; benefit_plan_id !; coverage_level v20 #employee only, family;"
          " start_date d; end_date d; employee_contribution n"),
        T("hr_emergency_contact", "next of kin / emergency contact persons",
          "employee_id !; contact_name v120; relationship v40; phone_number v40"),
        T("hr_termination", "employee exits / offboarding (resignations, dismissals, retirements)",
          "employee_id !; notice_date d; exit_date d;"
          " termination_reason v60 #resignation, dismissal, retirement, end of contract;"
          " is_voluntary b; exit_interview_done b; eligible_for_rehire b"),
        T("hr_attendance", "clock-in / clock-out records from the time clocks",
          "employee_id !; work_date d !; clock_in ts; clock_out ts; location_id; is_late b"),
    ], [
        ("which employees took more than {10|12|15} days of leave in {year}",
         "hr_employee,hr_employee_leave"),
        ("how many sick days were recorded per department in {year}",
         "hr_employee_leave,hr_leave_type,hr_employee,hr_department"),
        ("how many vacation days does each person still have left for {year}",
         "hr_leave_balance,hr_employee,hr_leave_type"),
        ("headcount by department and job title",
         "hr_employee,hr_department,hr_job_title"),
        ("list each manager with the number of people reporting directly to them",
         "hr_employee"),
        ("average annual salary per pay grade",
         "hr_employee,hr_job_title"),
        ("voluntary resignations per department in {year}",
         "hr_termination,hr_employee,hr_department"),
        ("staff hired in {year} who have already left, with the reason for leaving",
         "hr_employee,hr_termination"),
        ("fixed-term employment contracts that end within the next three months",
         "hr_employment_contract,hr_employee"),
        ("who has not completed the mandatory compliance trainings yet",
         "hr_training_course,hr_training_enrollment,hr_employee"),
        ("average appraisal score per department for the {year} review cycle",
         "hr_performance_review,hr_employee,hr_department"),
        ("open vacancies per department and how many candidates applied to each",
         "hr_job_requisition,hr_applicant,hr_department"),
        ("how long does it take from application to hire for candidates who came through referrals",
         "hr_applicant,hr_employee"),
        ("which interviewers ran the most candidate interviews in {year}",
         "hr_interview,hr_employee"),
        ("people with expert level knowledge of SAP",
         "hr_employee_skill,hr_skill,hr_employee"),
        ("total overtime hours per person in Q{q} {year}",
         "hr_timesheet,hr_employee"),
        ("how many staff are enrolled in each health insurance plan",
         "hr_benefit_enrollment,hr_benefit_plan"),
        ("workers who clocked in late more than {3|5} times last month",
         "hr_attendance,hr_employee"),
        ("employees without an emergency contact on file",
         "hr_employee,hr_emergency_contact"),
    ]),
    ("pay", "Payroll", [
        L("pay_component", "payroll wage types: earnings and deductions (base pay, overtime, tax, social security)",
          "component_kind v20 #earning or deduction; is_taxable b; gl_account_id"),
        T("pay_run", "payroll runs (monthly salary processing)",
          "company_id !; period_year i !; period_month i !; pay_date d; run_status v20;"
          " total_gross n; total_net n; processed_by_id"),
        T("pay_slip", "payslips: one per employee per payroll run",
          "pay_run_id !; employee_id !; gross_pay n; net_pay n #take-home pay after tax and deductions;"
          " income_tax n; social_security n; currency_id;"
          " bank_account_id ->pay_employee_bank_account"),
        T("pay_slip_line", "individual wage type amounts on a payslip",
          "pay_slip_id !; component_id ->pay_component !; quantity n; rate n; amount n"),
        T("pay_employee_bank_account", "employee bank details for salary transfers",
          "employee_id !; iban v34 !; bic v11; bank_name v120; account_holder v120; is_primary b"),
        T("pay_bonus", "one-off bonuses and incentive payments to staff",
          "employee_id !; bonus_kind v40 #annual, sign-on, retention, spot award; amount n;"
          " award_date d; pay_run_id; approved_by_id"),
        T("pay_tax_bracket", "income tax brackets / withholding tables",
          "country_id; tax_year i; lower_bound n; upper_bound n; tax_rate_pct p"),
    ], [
        ("which employees had a take-home pay above {6000|8000} in any month of {year}",
         "pay_slip,pay_run,hr_employee"),
        ("total amount paid per wage type in the {month} {year} payroll",
         "pay_slip_line,pay_component,pay_slip,pay_run"),
        ("sign-on bonuses paid to people who joined in {year}",
         "pay_bonus,hr_employee"),
        ("active employees who have no primary bank account for their salary",
         "hr_employee,pay_employee_bank_account"),
        ("gross salary cost per legal entity in {year}",
         "pay_run,org_company"),
    ]),
    ("exp", "Travel and expenses", [
        L("exp_category", "expense types: travel, meals, hotel, mileage, entertainment",
          "gl_account_id; daily_limit n"),
        T("exp_report", "employee expense claims / travel expense reports",
          "employee_id !; report_no v20 !; trip_purpose v200; submitted_on d; approved_on d;"
          " report_status v20 #draft, submitted, approved, rejected, reimbursed;"
          " total_amount n; currency_id; project_id; reimbursed_on d"),
        T("exp_line", "individual receipts on an expense claim",
          "report_id !; category_id ->exp_category; expense_date d; merchant_name v120;"
          " amount n; vat_amount n; has_receipt b; city v100"),
    ], [
        ("travel expense claims over {500|1000} that have not been reimbursed yet, with the employee name",
         "exp_report,hr_employee"),
        ("hotel spending per city in {year}",
         "exp_line,exp_category"),
        ("who submitted the most expenses without a receipt",
         "exp_line,exp_report,hr_employee"),
    ]),
    ("fin", "Finance / general ledger", [
        T("fin_fiscal_year", "financial years of each company",
          "company_id !; fiscal_year i !; start_date d; end_date d; is_closed b"),
        T("fin_fiscal_period", "accounting periods (months) within a fiscal year",
          "fiscal_year_id !; period_no i !; start_date d; end_date d;"
          " period_status v20 #open, soft close, closed"),
        T("fin_gl_account", "chart of accounts (general ledger accounts)",
          "company_id; account_no v20 !; account_name v200 !;"
          " account_class v20 #asset, liability, equity, revenue, expense;"
          " parent_account_id ->fin_gl_account; is_postable b; normal_balance v6 #debit or credit;"
          " currency_id"),
        T("fin_gl_journal", "journal entries / bookings header (accounting vouchers)",
          "company_id !; journal_no v30 !; fiscal_period_id; posting_date d !; document_date d;"
          " journal_source v30 #AP, AR, payroll, assets, manual; description t; posted_by_id;"
          " is_reversed b"),
        T("fin_gl_journal_line", "debit and credit lines of journal entries (ledger postings)",
          "journal_id !; line_no i; gl_account_id !; cost_center_id; debit_amount n;"
          " credit_amount n; currency_id; amount_in_base n4 #amount converted to company currency;"
          " line_text v255; project_id"),
        T("fin_budget", "annual budgets (planned spending) per company",
          "company_id !; fiscal_year_id !; budget_name v120;"
          " budget_version v20 #original, revised, forecast; approved_on d; budget_status v20"),
        T("fin_budget_line", "budgeted amounts per account, cost centre and month",
          "budget_id !; gl_account_id; cost_center_id; period_no i; planned_amount n"),
        T("fin_tax_code", "VAT / sales tax codes and their rates",
          "tax_code v10 !; tax_name v120; rate_pct p; country_id; tax_kind v20 #input or output;"
          " gl_account_id"),
        L("fin_payment_term", "payment conditions (net 30, 2% 10 net 30)",
          "due_days i; discount_days i; discount_pct p"),
        T("fin_bank_account", "company bank accounts (house banks)",
          "company_id !; bank_name v120; iban v34 !; bic v11; currency_id; gl_account_id;"
          " opened_on d"),
        T("fin_bank_statement", "bank statements imported from the bank",
          "bank_account_id ->fin_bank_account !; statement_no v30; statement_date d;"
          " opening_balance n; closing_balance n; imported_at ts"),
        T("fin_bank_statement_line", "bank transactions on a statement (for reconciliation)",
          "statement_id !; value_date d; amount n; counterparty_name v200; counterparty_iban v34;"
          " remittance_info t #payment reference text; is_reconciled b;"
          " matched_journal_id ->fin_gl_journal"),
        T("fin_intercompany_txn", "transactions between group companies (eliminated in consolidation)",
          "from_company_id ->org_company !; to_company_id ->org_company !; transaction_date d;"
          " amount n; currency_id; journal_id; is_eliminated b"),
    ], [
        ("trial balance: total debits and credits per ledger account in {month} {year}",
         "fin_gl_journal_line,fin_gl_account,fin_gl_journal"),
        ("planned budget per cost centre for fiscal year {year}",
         "fin_budget_line,fin_budget,fin_fiscal_year,org_cost_center"),
        ("manual bookings posted in the last closed accounting period",
         "fin_gl_journal,fin_fiscal_period"),
        ("which accounting months are still open, per fiscal year",
         "fin_fiscal_period,fin_fiscal_year"),
        ("unreconciled bank transactions older than 30 days per bank account",
         "fin_bank_statement_line,fin_bank_statement,fin_bank_account"),
        ("intercompany transactions between group companies that have not been eliminated",
         "fin_intercompany_txn,org_company"),
        ("VAT rates that apply in {country}",
         "fin_tax_code,ref_country"),
        ("expense postings per cost centre in {year}",
         "fin_gl_journal_line,fin_gl_journal,fin_gl_account,org_cost_center"),
    ]),
    ("tre", "Treasury", [
        T("tre_loan", "bank loans and credit facilities (borrowings)",
          "company_id !; lender_name v120; principal_amount n; interest_rate_pct p; start_date d;"
          " maturity_date d; currency_id; outstanding_balance n"),
        T("tre_fx_deal", "foreign exchange hedges / forward contracts",
          "company_id !; deal_date d; value_date d #settlement date;"
          " buy_currency_id ->ref_currency; sell_currency_id ->ref_currency; buy_amount n;"
          " sell_amount n; contract_rate n4; counterparty_bank v120"),
    ], [
        ("how much do we still owe on our bank loans and when do they mature",
         "tre_loan"),
        ("currency forward contracts settling next month and the currencies bought",
         "tre_fx_deal,ref_currency"),
    ]),
    ("ap", "Accounts payable", [
        T("ap_invoice", "supplier invoices / vendor bills received (accounts payable)",
          "supplier_id !; company_id; invoice_no v40 ! #the supplier's own invoice number;"
          " invoice_date d; due_date d; currency_id; net_amount n; tax_amount n; gross_amount n;"
          " open_amount n #amount still unpaid; payment_status v20 #unpaid, partially paid, paid;"
          " purchase_order_id ->pur_order; payment_term_id; journal_id; is_disputed b"),
        T("ap_invoice_line", "line items of supplier invoices",
          "invoice_id ->ap_invoice !; line_no i; item_id; description v255; quantity q;"
          " unit_price n; line_amount n; tax_code_id; gl_account_id; cost_center_id"),
        T("ap_payment", "payments made to vendors (outgoing payments)",
          "supplier_id !; bank_account_id ->fin_bank_account; payment_date d; amount n;"
          " currency_id; payment_method v20 #SEPA transfer, cheque, wire; payment_ref v40"),
        T("ap_payment_allocation", "which supplier invoices an outgoing payment settles",
          "payment_id !; invoice_id ->ap_invoice !; allocated_amount n;"
          " discount_taken n #early payment (cash) discount"),
    ], [
        ("total unpaid supplier invoices per vendor",
         "ap_invoice,pur_supplier"),
        ("vendor bills falling due in the next {7|14} days",
         "ap_invoice,pur_supplier"),
        ("how much did we pay to vendors in {year} by payment method",
         "ap_payment"),
        ("early payment discounts we took per supplier in {year}",
         "ap_payment_allocation,ap_payment,pur_supplier"),
        ("disputed vendor bills that have no purchase order",
         "ap_invoice,pur_supplier"),
        ("spend per general ledger account from purchase invoice lines in {year}",
         "ap_invoice_line,ap_invoice,fin_gl_account"),
    ]),
    ("ar", "Accounts receivable", [
        T("ar_invoice", "customer invoices we issue (accounts receivable, billed revenue)",
          "customer_id !; company_id; invoice_no v30 !; invoice_date d !; due_date d;"
          " currency_id; net_amount n; tax_amount n; total_amount n;"
          " balance_due n #outstanding amount not yet collected;"
          " invoice_status v20 #draft, sent, paid, overdue, cancelled; sales_order_id;"
          " payment_term_id; journal_id"),
        T("ar_invoice_line", "lines on customer invoices",
          "invoice_id ->ar_invoice !; line_no i; item_id; description v255; quantity q;"
          " unit_price n; discount_pct p; line_total n; tax_code_id;"
          " revenue_account_id ->fin_gl_account"),
        T("ar_receipt", "incoming customer payments (cash receipts)",
          "customer_id !; bank_account_id ->fin_bank_account; received_on d; amount n;"
          " currency_id; payment_method v20; reference_no v40"),
        T("ar_receipt_allocation", "application of customer payments to invoices",
          "receipt_id ->ar_receipt !; invoice_id ->ar_invoice !; applied_amount n;"
          " write_off_amount n"),
        T("ar_dunning_notice", "payment reminders / collection letters for overdue invoices",
          "invoice_id ->ar_invoice !; customer_id; dunning_level i #1 = friendly reminder, 3 = final demand;"
          " sent_on d; fee_amount n; days_overdue i"),
        T("ar_credit_note", "credit memos issued to customers (refunds, corrections)",
          "customer_id !; original_invoice_id ->ar_invoice; credit_note_no v30; issue_date d;"
          " amount n; reason v200"),
    ], [
        ("customers with overdue invoices and the total amount they still owe us",
         "ar_invoice,sales_customer"),
        ("average number of days our customers take to pay, per customer",
         "ar_invoice,ar_receipt_allocation,ar_receipt,sales_customer"),
        ("which clients received a final payment reminder this year",
         "ar_dunning_notice,sales_customer"),
        ("revenue billed per month in {year}",
         "ar_invoice"),
        ("credit memos issued in {year} together with the invoice they correct",
         "ar_credit_note,ar_invoice"),
        ("invoiced quantity per product in {year}",
         "ar_invoice_line,ar_invoice,inv_item"),
    ]),
    ("sales", "Sales", [
        T("sales_customer", "customers (companies and persons who buy from us)",
          "customer_no v20 ! #debtor number; customer_name v200 !;"
          " customer_group v40 #wholesale, retail, distributor; industry v60; vat_number v40;"
          " country_id; city v100; credit_limit n; payment_term_id; currency_id;"
          " sales_rep_id #account manager; territory_id; on_credit_hold b #orders blocked until paid;"
          " customer_since d; crm_account_ref v40 #id of the account in the CRM system"),
        T("sales_customer_address", "billing and delivery addresses of customers",
          "customer_id !; address_kind v20 #billing, shipping; street v200; city v100;"
          " postal_code v20; region v60; country_id; is_default b"),
        T("sales_customer_contact", "contact persons at customer companies",
          "customer_id !; full_name v120; job_role v80; email v255; phone v40; is_primary b"),
        T("sales_territory", "sales regions / territories",
          "territory_code v20 !; territory_name v120; region v60; manager_id"),
        T("sales_order", "customer orders (sales orders / bookings)",
          "order_no v20 !; customer_id !; order_date d !; requested_delivery_date d;"
          " order_status v20 #open, confirmed, shipped, invoiced, cancelled; sales_rep_id;"
          " currency_id; total_net n; total_gross n;"
          " ship_to_address_id ->sales_customer_address; warehouse_id;"
          " sales_channel v20 #direct, web shop, EDI, phone;"
          " crm_opportunity_ref v40 #opportunity id in the CRM; promotion_id ->mkt_promotion;"
          " company_id; web_order_ref v20 #order number of the web shop"),
        T("sales_order_line", "order lines / items ordered by customers",
          "order_id ->sales_order !; line_no i; item_id !; quantity q; uom_id; unit_price n;"
          " discount_pct p; line_net n; promised_date d; line_status v20; quantity_shipped q"),
        T("sales_quote", "quotations / offers sent to customers",
          "quote_no v20 !; customer_id !; quote_date d; valid_until d;"
          " quote_status v20 #draft, sent, accepted, rejected, expired; total_net n; sales_rep_id;"
          " converted_order_id ->sales_order"),
        T("sales_quote_line", "lines of quotations",
          "quote_id !; line_no i; item_id; quantity q; unit_price n; discount_pct p"),
        T("sales_price_list", "price lists (list prices per currency and customer group)",
          "price_list_code v20 !; price_list_name v120; currency_id; valid_from d; valid_to d;"
          " customer_group v40"),
        T("sales_price_list_item", "item prices within a price list",
          "price_list_id !; item_id !; unit_price n; min_quantity q"),
        T("sales_commission", "commissions earned by sales representatives",
          "sales_rep_id !; order_id ->sales_order; commission_rate_pct p; commission_amount n;"
          " earned_on d; paid_in_pay_run_id ->pay_run"),
        T("sales_return", "customer returns / RMAs (return merchandise authorisations)",
          "rma_no v20 !; customer_id !; order_id ->sales_order; requested_on d; received_on d;"
          " return_reason v60 #damaged, wrong item, not needed, defective; return_status v20;"
          " refund_amount n"),
        T("sales_return_line", "returned items per RMA",
          "return_id !; order_line_id; item_id; quantity_returned q;"
          " item_condition v20 #resellable, scrap"),
        T("sales_target", "sales quotas / targets per rep and quarter",
          "sales_rep_id !; target_year i; target_quarter i; target_amount n; territory_id"),
    ], [
        ("top 10 customers by order value in {year}",
         "sales_order,sales_customer"),
        ("best-selling products last quarter by quantity",
         "sales_order_line,sales_order,inv_item"),
        ("orders that have not shipped although the requested delivery date has passed",
         "sales_order"),
        ("average discount granted per salesperson",
         "sales_order_line,sales_order,hr_employee"),
        ("offers that expired in {year} without being accepted, with customer names",
         "sales_quote,sales_customer"),
        ("quote win rate per sales representative",
         "sales_quote,hr_employee"),
        ("current price of article {sku} in each price list",
         "sales_price_list_item,sales_price_list,inv_item"),
        ("commission earned per salesperson in {year}",
         "sales_commission,hr_employee"),
        ("return rate per product: units sent back compared to units sold",
         "sales_return_line,sales_order_line,inv_item"),
        ("most common reasons for returns from customers in {country}",
         "sales_return,sales_customer,ref_country"),
        ("quota attainment per sales rep for Q{q} {year}",
         "sales_target,sales_order,hr_employee"),
        ("booked order revenue per sales territory in {year}",
         "sales_order,sales_customer,sales_territory"),
        ("clients on credit hold that still have open orders",
         "sales_customer,sales_order"),
        ("customers without a default delivery address",
         "sales_customer,sales_customer_address"),
        ("how many orders came in through each sales channel per month",
         "sales_order"),
    ]),
    ("crm", "Sales pipeline (ERP side)", [
        T("crm_acct", "customer accounts (companies we sell to) as tracked by the field sales team",
          "customer_id; account_name v200 !; account_tier v10 #A/B/C key account ranking;"
          " industry v60; employee_count i; annual_revenue_est n; owner_id"),
        T("crm_opportunity", "sales pipeline deals / potential sales",
          "account_id !; opportunity_name v200; stage v30 #prospecting, proposal, negotiation, won, lost;"
          " expected_value n; probability_pct p; expected_close_date d; owner_id; lost_reason v120;"
          " closed_on d"),
        T("crm_activity", "sales calls, visits and meetings logged against accounts",
          "account_id !; opportunity_id; activity_kind v20 #call, visit, email, meeting;"
          " activity_date d; duration_min i; employee_id; outcome t"),
    ], [
        ("weighted pipeline value per key account tier",
         "crm_opportunity,crm_acct"),
        ("A-tier accounts that had no sales visit in the last 90 days",
         "crm_acct,crm_activity"),
    ]),
    ("mkt", "Marketing", [
        T("mkt_campaign", "marketing campaigns (trade fairs, mailings, online ads)",
          "campaign_code v20 !; campaign_name v200; channel v30; start_date d; end_date d;"
          " budget_amount n; owner_id; target_segment v60"),
        T("mkt_campaign_cost", "actual marketing spend booked per campaign",
          "campaign_id !; cost_date d; cost_kind v40 #media, agency fee, print, event booth;"
          " amount n; supplier_id; ap_invoice_id ->ap_invoice"),
        T("mkt_promotion", "price promotions / discount actions",
          "promo_code v20 !; promo_name v120; campaign_id; discount_pct p; valid_from d; valid_to d;"
          " item_category_id ->inv_item_category"),
    ], [
        ("marketing spend compared to budget per campaign in {year}",
         "mkt_campaign,mkt_campaign_cost"),
        ("orders placed with a promotion code and the promotion discount",
         "sales_order,mkt_promotion"),
    ]),
    ("pur", "Purchasing", [
        T("pur_supplier", "vendors / suppliers we buy from (creditors)",
          "supplier_no v20 ! #creditor number; supplier_name v200 !; country_id; city v100;"
          " vat_number v40; payment_term_id; currency_id;"
          " supplier_category v40 #raw material, services, logistics, IT; is_preferred b;"
          " is_blocked b; buyer_id #responsible purchaser; onboarded_on d"),
        T("pur_supplier_contact", "contact persons at suppliers",
          "supplier_id !; full_name v120; email v255; phone v40; job_role v80"),
        T("pur_requisition", "internal purchase requests (requests to buy something)",
          "requisition_no v20 !; requested_by_id ->hr_employee; department_id; requested_on d;"
          " needed_by d; requisition_status v20 #draft, pending approval, approved, ordered;"
          " estimated_total n; approved_by_id"),
        T("pur_requisition_line", "items requested on a purchase request",
          "requisition_id ->pur_requisition !; line_no i; item_id; description v255; quantity q;"
          " estimated_unit_price n; suggested_supplier_id ->pur_supplier"),
        T("pur_order", "purchase orders (POs) issued to suppliers",
          "po_no v20 !; supplier_id !; company_id; order_date d; expected_delivery_date d;"
          " po_status v20 #draft, sent, partially received, received, closed; buyer_id; currency_id;"
          " total_amount n; ship_to_warehouse_id ->wh_warehouse;"
          " requisition_id ->pur_requisition; contract_id ->pur_contract"),
        T("pur_order_line", "lines of purchase orders",
          "po_id !; line_no i; item_id !; quantity_ordered q; uom_id; unit_price n; line_amount n;"
          " quantity_received q; promised_date d"),
        T("pur_goods_receipt", "goods received notes (deliveries from suppliers)",
          "grn_no v20 !; po_id; warehouse_id; received_on d; received_by_id ->hr_employee;"
          " delivery_note_no v40; carrier_id"),
        T("pur_goods_receipt_line", "items received per delivery",
          "receipt_id ->pur_goods_receipt !; po_line_id; item_id; quantity_received q;"
          " quantity_rejected q #refused at the gate because of damage or wrong item; lot_id; bin_id"),
        T("pur_supplier_rating", "vendor performance scorecards (on-time delivery, quality)",
          "supplier_id !; rating_period v20; on_time_delivery_pct p; quality_score p;"
          " price_score p; overall_score p; rated_by_id ->hr_employee"),
        T("pur_contract", "framework agreements / purchase contracts with suppliers",
          "supplier_id !; contract_no v30 !; start_date d; end_date d; committed_value n;"
          " consumed_value n; auto_renew b; contract_owner_id ->hr_employee"),
        T("pur_rfq", "requests for quotation sent to suppliers (tenders)",
          "rfq_no v20 !; issued_on d; response_due d; item_id; quantity q; rfq_status v20"),
        T("pur_rfq_response", "supplier bids received for a tender",
          "rfq_id !; supplier_id !; quoted_price n; lead_time_days i; received_on d; is_awarded b"),
    ], [
        ("late purchase orders per supplier that are still open",
         "pur_order,pur_supplier"),
        ("PO lines that have not been fully delivered yet",
         "pur_order_line,pur_order"),
        ("vendors whose on-time delivery was below 90% in their latest scorecard",
         "pur_supplier_rating,pur_supplier"),
        ("purchase requests waiting for approval, by department",
         "pur_requisition,hr_department"),
        ("framework agreements that have used up more than 80% of their committed value",
         "pur_contract,pur_supplier"),
        ("quantity rejected at goods receipt per supplier in {year}",
         "pur_goods_receipt_line,pur_goods_receipt,pur_order,pur_supplier"),
        ("lowest bid and bidding vendor for each tender",
         "pur_rfq_response,pur_rfq,pur_supplier"),
        ("how much did we order from suppliers in {country} in {year}",
         "pur_order,pur_supplier,ref_country"),
    ]),
    ("inv", "Inventory", [
        T("inv_item_category", "product groups / material categories",
          "category_code v20 !; category_name v120 !; parent_category_id ->inv_item_category"),
        T("inv_item", "products, materials and articles (item master / SKUs)",
          "item_code v40 ! #SKU / article number; item_name v200 !; description t;"
          " category_id ->inv_item_category; base_uom_id ->ref_uom;"
          " item_kind v20 #finished good, raw material, service, spare part; standard_cost n;"
          " list_price n; weight_kg q; is_stocked b; is_discontinued b;"
          " preferred_supplier_id ->pur_supplier; ean_code v20 #barcode; lead_time_days i;"
          " launched_on d"),
        T("inv_stock_level", "current on-hand inventory quantity per item and warehouse",
          "item_id !; warehouse_id !; quantity_on_hand q; quantity_reserved q;"
          " quantity_available q #on hand minus reserved; last_counted_on d; bin_id"),
        T("inv_stock_movement", "inventory transactions (goods issues, receipts, transfers, adjustments)",
          "item_id !; warehouse_id !; movement_kind v20 #receipt, issue, transfer, adjustment, scrap;"
          " quantity q #positive in, negative out; movement_date ts; lot_id; reference_doc v40;"
          " unit_cost n; posted_by_id"),
        T("inv_lot", "batches / lot numbers with expiry dates",
          "item_id !; lot_no v40 !; manufactured_on d; expiry_date d #best before / use by date;"
          " supplier_id; lot_status v20 #released, quarantine, blocked"),
        T("inv_serial_number", "serialised units (serial numbers of individual devices sold)",
          "item_id !; serial_no v60 !; lot_id; warehouse_id;"
          " sold_to_customer_id ->sales_customer; warranty_end_date d"),
        T("inv_cycle_count", "stock-taking / physical inventory counts",
          "warehouse_id !; count_date d; counted_by_id ->hr_employee; count_status v20"),
        T("inv_cycle_count_line", "counted quantities per item during stock-taking",
          "cycle_count_id !; item_id; bin_id; system_quantity q; counted_quantity q;"
          " variance_quantity q"),
        T("inv_reorder_rule", "replenishment rules: minimum stock / reorder point per item",
          "item_id !; warehouse_id; reorder_point q; reorder_quantity q; max_stock q; safety_stock q"),
        T("inv_item_cost", "cost history (valuation) of items",
          "item_id !; cost_date d; cost_method v20 #standard, moving average, FIFO; unit_cost n4;"
          " currency_id"),
    ], [
        ("products that have fallen below their reorder point",
         "inv_stock_level,inv_reorder_rule,inv_item"),
        ("how much of article {sku} do we have in each warehouse",
         "inv_stock_level,inv_item,wh_warehouse"),
        ("batches that expire within the next 30 days, with the product name",
         "inv_lot,inv_item"),
        ("stock write-offs and adjustments last month per warehouse",
         "inv_stock_movement,wh_warehouse"),
        ("stock-taking differences larger than {5|10} units per product",
         "inv_cycle_count_line,inv_cycle_count,inv_item"),
        ("discontinued articles that are still in stock",
         "inv_item,inv_stock_level"),
        ("inventory value per product group at standard cost",
         "inv_stock_level,inv_item,inv_item_category"),
    ]),
    ("wh", "Warehouse", [
        T("wh_warehouse", "warehouses / distribution centres / depots",
          "warehouse_code v20 !; warehouse_name v120 !; location_id;"
          " warehouse_kind v20 #central, regional, consignment, 3PL; capacity_pallets i; manager_id;"
          " is_bonded b #customs bonded warehouse"),
        T("wh_zone", "areas within a warehouse (cold storage, bulk, picking area)",
          "warehouse_id !; zone_code v20 !; zone_kind v30; temperature_controlled b"),
        T("wh_bin", "storage bins / shelf locations",
          "zone_id !; bin_code v30 !; aisle v10; rack v10; shelf_level v10; max_weight_kg q;"
          " is_blocked b"),
        T("wh_pick_list", "picking orders for outbound deliveries",
          "pick_no v20 !; warehouse_id !; sales_order_id; picker_id; created_on ts;"
          " completed_at ts; pick_status v20"),
        T("wh_pick_list_line", "lines to pick per picking order",
          "pick_list_id !; order_line_id; item_id; bin_id; quantity_to_pick q; quantity_picked q"),
        T("wh_putaway_task", "tasks to store received goods in bins",
          "receipt_line_id ->pur_goods_receipt_line; item_id; target_bin_id ->wh_bin;"
          " quantity q; assigned_to_id; done_at ts"),
        T("wh_dock_appointment", "inbound and outbound truck slots at the loading docks",
          "warehouse_id !; carrier_id; dock_door v10; slot_start ts; slot_end ts;"
          " direction v10 #inbound, outbound; arrived_at ts"),
    ], [
        ("picking orders completed per warehouse worker yesterday",
         "wh_pick_list,hr_employee"),
        ("blocked shelf locations per warehouse area",
         "wh_bin,wh_zone,wh_warehouse"),
        ("hauliers whose trucks arrived late for their dock slot last month",
         "wh_dock_appointment,log_carrier"),
    ]),
    ("log", "Logistics / shipping", [
        T("log_carrier", "freight carriers / transport companies (parcel services, forwarders)",
          "carrier_code v20 !; carrier_name v120 !; carrier_mode v20 #parcel, LTL, FTL, air, sea;"
          " scac_code v4; country_id; supplier_id; is_active b"),
        T("log_shipment", "outbound deliveries / consignments sent to customers",
          "shipment_no v20 !; sales_order_id; carrier_id; warehouse_id; ship_date d;"
          " planned_delivery_date d; actual_delivery_date d; tracking_no v60;"
          " shipment_status v20 #planned, in transit, delivered, returned; freight_cost n;"
          " total_weight_kg q; ship_to_country_id ->ref_country; incoterm v3"),
        T("log_shipment_line", "items packed per delivery",
          "shipment_id !; order_line_id; item_id; quantity_shipped q; package_no v30"),
        T("log_tracking_event", "carrier tracking scans / delivery status updates",
          "shipment_id !; event_time ts; event_code v20; event_description v255; city v100;"
          " country_id"),
        T("log_freight_rate", "contracted freight tariffs per lane",
          "carrier_id !; origin_country_id ->ref_country; destination_country_id ->ref_country;"
          " weight_from_kg q; weight_to_kg q; rate_amount n; currency_id; valid_from d; valid_to d"),
        T("log_vehicle", "own truck fleet / delivery vans",
          "plate_number v20 !; vehicle_kind v30; capacity_kg q; home_location_id ->org_location;"
          " acquired_on d; asset_id"),
        T("log_route", "planned delivery tours",
          "route_code v20; route_date d; vehicle_id; driver_id; planned_km q; actual_km q"),
        T("log_route_stop", "stops on a delivery tour",
          "route_id !; stop_seq i; shipment_id; planned_arrival ts; actual_arrival ts"),
        T("log_customs_declaration", "export and import customs filings",
          "shipment_id; declaration_no v40; declaration_kind v10 #export, import;"
          " hs_code v12 #tariff number; customs_value n; duty_amount n; filed_on d; cleared_on d"),
    ], [
        ("late deliveries per freight carrier in {year}",
         "log_shipment,log_carrier"),
        ("average freight cost per destination country",
         "log_shipment,ref_country"),
        ("consignments still in transit for customer orders placed more than two weeks ago",
         "log_shipment,sales_order"),
        ("latest tracking scan for every parcel that is still on its way",
         "log_tracking_event,log_shipment"),
        ("customs duties paid per destination country in {year}",
         "log_customs_declaration,log_shipment,ref_country"),
        ("kilometres driven per truck last month",
         "log_route,log_vehicle"),
    ]),
    ("mfg", "Manufacturing", [
        T("mfg_work_center", "production lines / machine groups",
          "work_center_code v20 !; work_center_name v120; location_id; capacity_hours_per_day n;"
          " hourly_rate n; cost_center_id"),
        T("mfg_machine", "production equipment / machines",
          "machine_code v20 !; machine_name v120; work_center_id; manufacturer v120; model v60;"
          " asset_id; commissioned_on d"),
        T("mfg_bom", "bills of materials (recipes / product structures)",
          "item_id ! #the product being made; bom_version v10; valid_from d; valid_to d;"
          " base_quantity q; is_active b"),
        T("mfg_bom_component", "components / ingredients of a bill of materials",
          "bom_id !; component_item_id ->inv_item !; quantity_per q; uom_id; scrap_factor_pct p"),
        T("mfg_routing", "routings: sequence of manufacturing steps for an item",
          "item_id !; routing_version v10; is_active b"),
        T("mfg_routing_operation", "operations (steps) of a routing",
          "routing_id !; operation_no i; work_center_id; description v255; setup_minutes n;"
          " run_minutes_per_unit n"),
        T("mfg_work_order", "production orders / manufacturing jobs",
          "work_order_no v20 !; item_id !; bom_id; planned_quantity q; completed_quantity q;"
          " scrapped_quantity q; planned_start d; planned_finish d; actual_start ts; actual_finish ts;"
          " wo_status v20 #planned, released, in progress, completed, closed; work_center_id;"
          " sales_order_id #make-to-order link; priority i"),
        T("mfg_work_order_operation", "operations performed for a production order",
          "work_order_id !; operation_no i; work_center_id; machine_id; operator_id; started_at ts;"
          " finished_at ts; good_quantity q; reject_quantity q"),
        T("mfg_downtime_event", "machine breakdowns / stoppages (unplanned downtime)",
          "machine_id !; started_at ts; ended_at ts; downtime_minutes i;"
          " downtime_reason v60 #breakdown, changeover, no material, maintenance;"
          " reported_by_id ->hr_employee"),
        T("mfg_material_issue", "components consumed from stock for production orders",
          "work_order_id !; item_id; lot_id; quantity_issued q; issued_at ts; warehouse_id"),
        T("mfg_scrap_record", "production waste / rejected parts",
          "work_order_id; item_id; quantity_scrapped q; scrap_reason v60; scrap_cost n;"
          " recorded_at ts"),
    ], [
        ("production orders that are behind schedule, with the product being made",
         "mfg_work_order,inv_item"),
        ("scrap rate per production line",
         "mfg_work_order,mfg_work_center"),
        ("which parts and how many of each are needed to build {sku}",
         "mfg_bom,mfg_bom_component,inv_item"),
        ("hours of machine downtime per machine and cause last month",
         "mfg_downtime_event,mfg_machine"),
        ("good units produced per machine operator in {year}",
         "mfg_work_order_operation,hr_employee"),
        ("raw material consumed for the production orders of {sku}",
         "mfg_material_issue,mfg_work_order,inv_item"),
    ]),
    ("qm", "Quality management", [
        T("qm_inspection_plan", "quality test plans per item (what to check)",
          "item_id !; plan_code v20; sampling_rule v60; inspection_kind v20 #incoming, in-process, final;"
          " is_active b"),
        T("qm_inspection", "quality inspections / QC checks performed",
          "inspection_plan_id; lot_id; goods_receipt_id ->pur_goods_receipt; work_order_id;"
          " inspected_on d; inspector_id; sample_size i;"
          " inspection_result v20 #passed, failed, conditional release; defects_found i"),
        T("qm_inspection_result", "measured values per characteristic",
          "inspection_id !; characteristic v120; measured_value n4; lower_limit n4; upper_limit n4;"
          " is_within_spec b"),
        T("qm_nonconformance", "defect reports / non-conformances (NCRs, quality complaints)",
          "ncr_no v20 !; item_id; supplier_id; customer_id; detected_on d; defect_category v60;"
          " severity v20 #minor, major, critical; quantity_affected q;"
          " ncr_status v20 #open, under investigation, closed; root_cause t;"
          " cost_of_poor_quality n"),
        T("qm_capa", "corrective and preventive actions",
          "nonconformance_id; action_description t; owner_id; due_date d; completed_on d;"
          " capa_status v20; effectiveness_verified b"),
        T("qm_calibration", "calibration of measuring equipment (gauges, scales)",
          "asset_id !; calibrated_on d; next_due_on d; calibration_result v20; certificate_no v40;"
          " performed_by v120"),
        T("qm_supplier_audit", "quality audits at supplier sites",
          "supplier_id !; audit_date d; auditor_id; audit_score p; audit_result v20;"
          " next_audit_due d"),
    ], [
        ("failed incoming inspections per vendor in {year}",
         "qm_inspection,pur_goods_receipt,pur_order,pur_supplier"),
        ("critical quality defects per product this year",
         "qm_nonconformance,inv_item"),
        ("corrective actions that are past due and who owns them",
         "qm_capa,hr_employee"),
        ("measuring devices that are due for calibration",
         "qm_calibration,ast_asset"),
        ("cost of poor quality per supplier",
         "qm_nonconformance,pur_supplier"),
    ]),
    ("prj", "Projects", [
        T("prj_project", "projects (customer projects and internal initiatives)",
          "project_code v20 !; project_name v200 !; customer_id; project_manager_id ->hr_employee;"
          " start_date d; planned_end_date d; actual_end_date d;"
          " project_status v20 #planned, active, on hold, completed, cancelled; budget_amount n;"
          " billing_method v20 #fixed price, time and material; cost_center_id"),
        T("prj_task", "work breakdown: project tasks and work packages",
          "project_id !; parent_task_id ->prj_task; task_name v200; assignee_id; planned_hours n;"
          " actual_hours n; start_date d; due_date d; percent_complete p; task_status v20"),
        T("prj_milestone", "project milestones / deliverables",
          "project_id !; milestone_name v200; due_date d; achieved_on d;"
          " billing_amount n #amount invoiced when the milestone is reached; is_billed b"),
        T("prj_time_entry", "hours booked on projects (timesheet entries)",
          "project_id !; task_id; employee_id !; work_date d; hours n; is_billable b; billing_rate n;"
          " description v255; is_approved b"),
        T("prj_resource_assignment", "staffing: employees allocated to projects",
          "project_id !; employee_id !; role_on_project v60; allocation_pct p; from_date d; to_date d"),
        T("prj_risk", "project risk log",
          "project_id !; risk_title v200; probability i; impact i; mitigation t; owner_id;"
          " risk_status v20"),
        T("prj_change_request", "scope changes requested on projects",
          "project_id !; cr_no v20; title v200; requested_on d; cost_impact n; days_impact i;"
          " cr_status v20"),
    ], [
        ("billable hours per project in {year}",
         "prj_time_entry,prj_project"),
        ("projects whose booked hours cost more than their budget",
         "prj_project,prj_time_entry"),
        ("overdue project tasks per assignee",
         "prj_task,hr_employee"),
        ("milestones reached but not yet invoiced",
         "prj_milestone,prj_project"),
        ("people allocated more than 100% across all their projects",
         "prj_resource_assignment,hr_employee"),
        ("approved scope changes and their cost impact per customer",
         "prj_change_request,prj_project,sales_customer"),
    ]),
    ("ast", "Fixed assets and maintenance", [
        L("ast_asset_category", "asset classes (buildings, machinery, vehicles, IT equipment)",
          "useful_life_years i; depreciation_method v20; gl_account_id"),
        T("ast_asset", "fixed assets register (equipment, vehicles, buildings, computers)",
          "asset_tag v30 ! #inventory tag; asset_name v200 !; category_id ->ast_asset_category;"
          " company_id; location_id; cost_center_id; acquisition_date d; acquisition_cost n;"
          " residual_value n; net_book_value n; custodian_id #employee responsible for the asset;"
          " serial_no v60; model v60; supplier_id; asset_status v20 #in use, idle, under repair, disposed"),
        T("ast_depreciation_entry", "periodic depreciation postings per asset",
          "asset_id !; fiscal_period_id !; depreciation_amount n; accumulated_depreciation n;"
          " journal_id"),
        T("ast_maintenance_plan", "preventive maintenance schedules",
          "asset_id !; task_description v255; interval_days i; last_done_on d; next_due_on d"),
        T("ast_maintenance_order", "repair / maintenance work orders for equipment",
          "asset_id !; maintenance_plan_id; order_kind v20 #preventive, corrective, breakdown;"
          " reported_on d; completed_on d; technician_id; labour_hours n; parts_cost n;"
          " external_cost n; supplier_id"),
        T("ast_asset_transfer", "moves of assets between locations / cost centres",
          "asset_id !; from_location_id ->org_location; to_location_id ->org_location;"
          " transfer_date d; approved_by_id"),
        T("ast_disposal", "sold or scrapped assets (retirements)",
          "asset_id !; disposal_date d; disposal_kind v20 #sale, scrap, donation; sale_proceeds n;"
          " gain_loss n; buyer_name v120"),
    ], [
        ("net book value of our fixed assets per asset class",
         "ast_asset,ast_asset_category"),
        ("depreciation booked per month in {year}",
         "ast_depreciation_entry,fin_fiscal_period,fin_fiscal_year"),
        ("repair and maintenance cost per piece of equipment in {year}",
         "ast_maintenance_order,ast_asset"),
        ("preventive maintenance that is overdue",
         "ast_maintenance_plan,ast_asset"),
        ("gain or loss on equipment we sold in {year}",
         "ast_disposal,ast_asset"),
        ("which laptops are assigned to which employee",
         "ast_asset,ast_asset_category,hr_employee"),
    ]),
    ("cmp", "Compliance", [
        T("cmp_policy", "internal policies and guidelines (code of conduct, IT security policy)",
          "policy_code v20 !; policy_title v200 !; policy_owner_id ->hr_employee; version_no v10;"
          " effective_from d; review_due_on d; is_mandatory_ack b"),
        T("cmp_policy_acknowledgement", "employee sign-offs confirming they read a policy",
          "policy_id !; employee_id !; acknowledged_at ts; version_no v10"),
        T("cmp_regulation", "laws and regulations we must comply with (GDPR, SOX, REACH)",
          "regulation_code v20 !; regulation_name v200; jurisdiction v60; authority v120"),
        T("cmp_control", "internal controls (SOX key controls, checks)",
          "control_code v20 !; control_name v200; regulation_id; control_owner_id ->hr_employee;"
          " frequency v20; is_key_control b; process_area v60"),
        T("cmp_control_test", "results of testing internal controls",
          "control_id !; tested_on d; tester_id; test_result v20 #effective, deficient;"
          " deficiency_severity v20; remarks t"),
        T("cmp_incident", "compliance incidents / whistleblower reports / breaches",
          "incident_no v20 !; reported_on d; incident_category v60 #bribery, data breach, fraud, harassment;"
          " severity v20; reported_anonymously b; involved_department_id ->hr_department;"
          " case_status v20; closed_on d; regulation_id"),
        T("cmp_data_subject_request", "GDPR requests from individuals (access, erasure)",
          "request_kind v20 #access, erasure, rectification, portability; received_on d; due_on d;"
          " completed_on d; requester_email v255; handled_by_id ->hr_employee; request_status v20"),
        T("cmp_sanctions_screening", "screening of business partners against sanctions lists",
          "partner_kind v20 #customer, supplier; customer_id; supplier_id; screened_on d;"
          " list_name v60; is_hit b; resolution v60"),
    ], [
        ("employees who have not signed off the current code of conduct",
         "cmp_policy,cmp_policy_acknowledgement,hr_employee"),
        ("key controls that failed testing in {year}",
         "cmp_control_test,cmp_control"),
        ("whistleblower reports by category and department",
         "cmp_incident,hr_department"),
        ("GDPR deletion requests that were completed after their deadline",
         "cmp_data_subject_request"),
        ("vendors that came up as hits in sanctions list screening",
         "cmp_sanctions_screening,pur_supplier"),
    ]),
    ("aud", "Internal audit", [
        T("aud_engagement", "internal audit engagements (audit projects)",
          "audit_no v20 !; audit_title v200; audited_department_id ->hr_department;"
          " lead_auditor_id ->hr_employee; planned_start d; fieldwork_end d; report_issued_on d;"
          " overall_rating v20 #satisfactory, needs improvement, unsatisfactory"),
        T("aud_finding", "audit findings / observations",
          "engagement_id !; finding_title v200; risk_rating v10 #high, medium, low;"
          " finding_description t; control_id; identified_on d"),
        T("aud_action_item", "remediation actions agreed for audit findings",
          "finding_id !; action_text t; owner_id; due_date d; closed_on d; action_status v20;"
          " is_overdue b"),
    ], [
        ("high-risk audit findings whose remediation is overdue",
         "aud_finding,aud_action_item"),
        ("number of audit findings per audited department",
         "aud_finding,aud_engagement,hr_department"),
    ]),
    ("bil", "Billing (usage based, SaaS module with camelCase columns)", [
        T("bil_billing_account", "billing accounts (who gets invoiced for subscriptions and usage)",
          "customerId ->sales_customer !; billingEmail v255; billingCycle v20 #monthly, quarterly, annual;"
          " invoiceDeliveryMethod v20; currencyId ->ref_currency; paymentMethodToken v120;"
          " autopayEnabled b; balance n", camel=True),
        T("bil_rate_plan", "pricing plans / tariffs for metered usage",
          "planCode v30 !; planName v120; unitOfMeasure v20; pricePerUnit n4; includedUnits q;"
          " monthlyFee n; isActive b", camel=True),
        T("bil_usage_record", "metered consumption records (API calls, GB stored, minutes)",
          "billingAccountId ->bil_billing_account !; ratePlanId ->bil_rate_plan; usageDate d;"
          " quantity q; meterName v60; isBilled b", camel=True),
        T("bil_billing_run", "billing cycles executed",
          "runDate d; periodStart d; periodEnd d; accountsBilled i; totalAmount n; runStatus v20",
          camel=True),
        T("bil_charge", "charges computed by the billing run",
          "billingAccountId ->bil_billing_account !; billingRunId ->bil_billing_run;"
          " chargeKind v20 #recurring, usage, one-time; amount n; periodStart d; periodEnd d;"
          " arInvoiceId ->ar_invoice", camel=True),
    ], [
        ("customers with autopay switched off who have unbilled usage",
         "bil_billing_account,bil_usage_record,sales_customer"),
        ("API calls consumed per customer last month",
         "bil_usage_record,bil_billing_account,sales_customer"),
    ]),
    ("sub", "Subscriptions (camelCase columns)", [
        T("sub_plan", "subscription products / plans offered (basic, pro, enterprise)",
          "planCode v30 !; planName v120 !; billingPeriod v20; listPrice n; currencyId ->ref_currency;"
          " trialDays i; isPublic b", camel=True),
        T("sub_subscription", "customer subscriptions (recurring contracts)",
          "billingAccountId ->bil_billing_account !; planId ->sub_plan !; startDate d; endDate d;"
          " renewalDate d; subscriptionStatus v20 #trial, active, past_due, cancelled, expired;"
          " seats i; mrr n #monthly recurring revenue; autoRenew b", camel=True),
        T("sub_subscription_change", "upgrades / downgrades / seat changes of subscriptions",
          "subscriptionId ->sub_subscription !; changeDate d; fromPlanId ->sub_plan;"
          " toPlanId ->sub_plan; seatsBefore i; seatsAfter i; mrrDelta n", camel=True),
        T("sub_cancellation", "churned subscriptions and why (cancellation reasons)",
          "subscriptionId ->sub_subscription !; cancelledOn d; effectiveOn d;"
          " churnReason v60 #price, missing feature, switched to competitor, business closed;"
          " feedback t; winBackOffered b", camel=True),
    ], [
        ("monthly recurring revenue per subscription plan",
         "sub_subscription,sub_plan"),
        ("churned subscriptions in {year} by plan and cancellation reason",
         "sub_cancellation,sub_subscription,sub_plan"),
        ("number of upgrades and downgrades per month",
         "sub_subscription_change"),
        ("subscriptions renewing next month and the customers they belong to",
         "sub_subscription,bil_billing_account,sales_customer"),
    ]),
    ("svc", "After-sales service", [
        T("svc_service_contract", "maintenance and support contracts sold to customers (service level agreements)",
          "contract_no v20 !; customer_id !; start_date d; end_date d; annual_fee n;"
          " coverage_level v20 #bronze, silver, gold; response_time_hours i; auto_renew b"),
        T("svc_service_order", "field service / repair jobs at customer sites",
          "service_order_no v20 !; customer_id !; contract_id ->svc_service_contract;"
          " serial_number_id; reported_on ts; problem_description t; technician_id;"
          " scheduled_visit ts; completed_at ts; svc_status v20; labour_hours n; is_billable b"),
        T("svc_warranty_claim", "warranty claims for defective products",
          "claim_no v20 !; customer_id; serial_number_id; item_id; claim_date d; failure_description t;"
          " claim_status v20 #submitted, approved, rejected; approved_amount n;"
          " supplier_recovery_amount n"),
    ], [
        ("service contracts expiring in the next 60 days and their customers",
         "svc_service_contract,sales_customer"),
        ("warranty claims per product and approval status",
         "svc_warranty_claim,inv_item"),
        ("on-site repair visits per technician last month",
         "svc_service_order,hr_employee"),
    ]),
    ("hd", "Internal IT helpdesk", [
        T("hd_ticket", "internal IT helpdesk requests from staff (laptop problems, access requests)",
          "ticket_no v20 !; requester_id !; assigned_to_id; category v40 #hardware, software, access, network;"
          " priority v10; opened_at ts; resolved_at ts; ticket_status v20; summary v255; asset_id;"
          " sla_breached b"),
        T("hd_ticket_comment", "comments on internal IT requests",
          "ticket_id !; author_id; commented_at ts; body t; is_internal b"),
    ], [
        ("IT support requests raised per department this year",
         "hd_ticket,hr_employee,hr_department"),
        ("average time to resolve IT requests per technician",
         "hd_ticket,hr_employee"),
    ]),
    ("sys", "System administration", [
        T("sys_user", "application user logins of the ERP",
          "username v60 !; employee_id; email v255; last_login_at ts; is_locked b;"
          " password_changed_at ts"),
        T("sys_role", "permission roles",
          "role_code v40 !; role_name v120; description v255"),
        T("sys_user_role", "roles granted to users",
          "user_id !; role_id !; granted_on d; granted_by_id"),
        T("sys_login_audit", "login attempts (successful and failed sign-ins)",
          "user_id; attempted_at ts !; ip_address v45; success b; failure_reason v60"),
        T("sys_parameter", "configuration settings of the ERP",
          "param_key v120 !; param_value t; module v30"),
    ], [
        ("failed sign-ins per user in the last week",
         "sys_login_audit,sys_user"),
        ("which users have the administrator role",
         "sys_user_role,sys_role,sys_user"),
    ]),
    ("fac", "Facilities", [
        T("fac_building", "office buildings and plants we own or lease",
          "location_id !; building_name v120; floor_area_m2 n; year_built i; is_leased b"),
        T("fac_room", "meeting rooms and offices",
          "building_id !; room_no v20; room_name v120; capacity i; has_video_conf b"),
        T("fac_room_booking", "meeting room reservations",
          "room_id !; booked_by_id ->hr_employee; start_at ts; end_at ts; purpose v200; attendees i"),
        T("fac_lease_contract", "property leases / rental agreements",
          "building_id !; landlord_name v200; start_date d; end_date d; monthly_rent n; currency_id;"
          " notice_period_months i"),
    ], [
        ("how often are the meeting rooms booked, per building",
         "fac_room_booking,fac_room,fac_building"),
        ("monthly rent we pay per building",
         "fac_lease_contract,fac_building"),
    ]),
    ("hse", "Health and safety", [
        T("hse_incident", "workplace accidents and near misses (occupational safety)",
          "incident_no v20 !; occurred_at ts; location_id; injured_employee_id ->hr_employee;"
          " incident_kind v30 #injury, near miss, property damage; severity v20; lost_work_days i;"
          " description t; reported_by_id ->hr_employee"),
        T("hse_risk_assessment", "workplace hazard assessments",
          "location_id; work_center_id; assessed_on d; hazard v200; risk_score i;"
          " assessor_id ->hr_employee; next_review_on d"),
    ], [
        ("work accidents with lost days per site in {year}",
         "hse_incident,org_location"),
    ]),
    ("doc", "Document management", [
        T("doc_folder", "folders of the document management system",
          "folder_name v200 !; parent_folder_id ->doc_folder; owner_department_id ->hr_department"),
        T("doc_document", "stored files (contracts, certificates, drawings)",
          "title v255; file_name v255 !; mime_type v100; size_bytes bi; folder_id; uploaded_by_id;"
          " uploaded_at ts; retention_until d; is_confidential b"),
    ], [
        ("confidential files uploaded per user",
         "doc_document,sys_user"),
    ]),
]

ERP_PREFIXES = {d[0] for d in ERP_DOMAINS_RAW}

# --------------------------------------------------------------------------
# CRM (MariaDB) core schema: SuiteCRM-like plural names, a camelCase
# marketing module, a shop_ e-commerce module.
# --------------------------------------------------------------------------

CRM_FK = {
    "account_id": "accounts", "contact_id": "contacts", "lead_id": "leads",
    "opportunity_id": "opportunities", "user_id": "crm_users",
    "assigned_user_id": "crm_users", "owner_id": "crm_users", "campaign_id": "campaigns",
    "ticket_id": "tickets", "team_id": "teams", "industry_id": "industries",
    "lead_source_id": "leadSource", "stage_id": "opportunity_stages",
    "competitor_id": "competitors", "quote_id": "quotes", "priority_id": "ticket_priorities",
    "status_id": "ticket_statuses", "queue_id": "support_queues",
    "sla_policy_id": "sla_policies", "survey_id": "csat_surveys",
    "customer_id": "shop_customers", "order_id": "shop_orders", "cart_id": "carts",
    "coupon_id": "coupons", "wishlist_id": "wishlists",
    "loyalty_account_id": "loyalty_accounts", "webinar_id": "webinars",
    "partner_id": "partners", "web_form_id": "web_forms", "meeting_id": "meetings",
    "contactId": "contacts", "leadId": "leads", "campaignId": "campaigns",
}

CRM_DOMAINS_RAW = [
    ("accounts", "Accounts and contacts", [
        L("industries", "industry classification (NACE / SIC sectors)", "sector_code v10"),
        T("teams", "sales and support teams",
          "name v120 !; team_kind v20 #sales, support, marketing; manager_id ->crm_users; region v60"),
        T("crm_users", "CRM users: sales reps, support agents, marketers",
          "user_name v60 !; first_name v80; last_name v80; email v255; department v60; is_admin b;"
          " status v20 #active, inactive; team_id; employee_no v20 #personnel number in HR (ERP);"
          " reports_to_id ->crm_users; last_login_at ts"),
        T("accounts", "companies / organisations we do business with (customers, prospects, partners)",
          "name v200 !; account_type v30 #prospect, customer, partner, competitor; industry_id;"
          " website v255; phone_office v40; billing_city v100; billing_country v60;"
          " employees i #number of employees; annual_revenue n; assigned_user_id #account owner;"
          " parent_account_id ->accounts; erp_customer_no v20 #customer number in the ERP;"
          " rating v10 #hot, warm, cold; date_entered ts; deleted b"),
        T("contacts", "people at accounts (contact persons)",
          "account_id; salutation v10; first_name v80; last_name v80 !; title v100 #job title;"
          " email v255; phone_mobile v40; do_not_call b; email_opt_out b #does not want marketing email;"
          " lead_source_id; assigned_user_id; birthdate d; primary_address_city v100;"
          " primary_address_country v60; date_entered ts; deleted b"),
    ], [
        ("contacts at customer companies in {country} who opted out of marketing email",
         "contacts,accounts"),
        ("accounts without any logged phone call in the last six months",
         "accounts,calls"),
    ]),
    ("leads", "Leads", [
        T("leadSource", "where prospects come from (web form, trade show, referral, cold call)",
          "sourceName v80 !; sourceCategory v40 #inbound, outbound, partner, event; isActive b;"
          " costPerLead n", camel=True),
        T("leads", "prospects / potential customers not yet qualified",
          "first_name v80; last_name v80; company_name v200; title v100; email v255; phone v40;"
          " lead_source_id; status v20 #new, contacted, qualified, converted, dead;"
          " lead_score i #0-100 marketing score; assigned_user_id;"
          " converted_account_id ->accounts; converted_contact_id ->contacts;"
          " converted_opportunity_id ->opportunities; date_converted d; country v60; campaign_id;"
          " date_entered ts; deleted b"),
        T("lead_score_history", "changes of the marketing score of a lead over time",
          "lead_id !; scored_at ts; score i; score_reason v200"),
    ], [
        ("number of new prospects per source in {year}",
         "leads,leadSource"),
        ("lead conversion rate by where the leads came from",
         "leads,leadSource"),
        ("qualified prospects not contacted yet, per sales rep",
         "leads,crm_users"),
        ("prospects whose score dropped by more than 20 points in a single change",
         "lead_score_history,leads"),
    ]),
    ("sales", "Opportunities and quotes", [
        L("opportunity_stages", "sales pipeline stages (prospecting ... closed won / closed lost)",
          "probability_pct p; is_closed b; is_won b"),
        T("opportunities", "deals / sales opportunities in the pipeline",
          "name v200 !; account_id; stage_id; amount n; currency v3; expected_close_date d;"
          " probability p; assigned_user_id; lead_source_id; next_step v255; date_closed d;"
          " lost_reason v120; campaign_id; erp_order_no v20 #sales order number in the ERP once booked;"
          " date_entered ts; deleted b"),
        T("products", "product catalogue used by sales (CRM products)",
          "product_code v40 ! #same as the ERP item code / SKU; name v200; product_family v60;"
          " list_price n; is_active b"),
        T("opportunity_products", "products / line items on a deal",
          "opportunity_id !; product_id ->products; quantity q; unit_price n; discount_pct p"),
        T("competitors", "competing vendors we lose deals to",
          "name v120 !; website v255; strengths t; weaknesses t"),
        T("opportunity_competitors", "competitors involved in a deal",
          "opportunity_id !; competitor_id !; competitor_price n; is_winner b"),
        T("quotes", "sales proposals / quotations",
          "quote_number v20 !; opportunity_id; account_id; contact_id; valid_until d;"
          " total_amount n; quote_stage v20; assigned_user_id"),
        T("quote_line_items", "lines of sales proposals",
          "quote_id !; product_id ->products; quantity q; unit_price n; discount_pct p"),
        T("sales_quotas", "targets / quotas for sales reps per quarter",
          "user_id !; fiscal_year i; fiscal_quarter i; quota_amount n"),
        T("forecasts", "sales forecast submissions by reps",
          "user_id !; forecast_period v10; committed_amount n; best_case_amount n; submitted_at ts"),
        T("contracts", "signed customer agreements tracked in the CRM",
          "account_id !; contract_name v200; start_date d; end_date d; contract_value n;"
          " status v20; renewal_reminder_date d; assigned_user_id"),
        T("partners", "resellers / channel partners",
          "name v200 !; partner_tier v20 #silver, gold, platinum; country v60;"
          " account_manager_id ->crm_users; joined_on d; account_id"),
        T("partner_deal_registrations", "deals registered by resellers",
          "partner_id !; opportunity_id; registered_on d; approval_status v20; expires_on d"),
    ], [
        ("pipeline value per sales stage",
         "opportunities,opportunity_stages"),
        ("deals won per rep in Q{q} {year}",
         "opportunities,opportunity_stages,crm_users"),
        ("deals we lost to a competitor, by competitor",
         "opportunity_competitors,competitors,opportunities"),
        ("average deal size per industry",
         "opportunities,accounts,industries"),
        ("quota attainment per salesperson in {year}",
         "sales_quotas,opportunities,opportunity_stages,crm_users"),
        ("deals expected to close this month that have no next step",
         "opportunities"),
        ("products that appear most often on won deals",
         "opportunity_products,products,opportunities,opportunity_stages"),
        ("resellers with the most registered deals",
         "partner_deal_registrations,partners"),
        ("customer agreements up for renewal next quarter, per company",
         "contracts,accounts"),
        ("total value of proposals sent per sales rep this year",
         "quotes,crm_users"),
    ]),
    ("activities", "Activities", [
        T("calls", "phone calls logged with contacts",
          "contact_id; account_id; user_id; direction v10 #inbound, outbound; call_start ts;"
          " duration_seconds i; outcome v40; notes t"),
        T("meetings", "customer meetings / visits",
          "account_id; subject v255; meeting_start ts; meeting_end ts; location v200;"
          " organizer_id ->crm_users; opportunity_id"),
        T("meeting_attendees", "who took part in a meeting",
          "meeting_id !; contact_id; user_id; attended b"),
        T("tasks", "to-dos and follow-ups assigned to users",
          "subject v255 !; due_date d; priority v10; status v20; assigned_user_id; contact_id;"
          " account_id; completed_at ts"),
        T("notes", "free-text notes attached to any record",
          "parent_type v30; parent_id bi; note_text t; created_by_id ->crm_users; created_at ts"),
        T("emails", "emails sent and received, archived in the CRM",
          "from_address v255; to_address v255; subject v255; sent_at ts; direction v10;"
          " contact_id; account_id; user_id"),
    ], [
        ("customer meetings held per account manager last quarter",
         "meetings,crm_users"),
        ("overdue follow-up to-dos per user",
         "tasks,crm_users"),
    ]),
    ("marketing", "Marketing (camelCase module)", [
        T("campaigns", "marketing campaigns (all channels: email, events, paid ads, webinars)",
          "name v200 !; campaign_type v30; status v20; start_date d; end_date d; budget n;"
          " actual_cost n; expected_revenue n; owner_id; objective v200"),
        T("campaign_members", "contacts and leads targeted by a campaign and their response",
          "campaign_id !; contact_id; lead_id; member_status v20 #sent, responded, registered, attended;"
          " responded_at ts"),
        T("emailTemplate", "reusable email designs / templates",
          "templateName v120 !; htmlBody t; category v40; createdById ->crm_users; isArchived b",
          camel=True),
        T("marketingList", "mailing lists / audience segments",
          "listName v120 !; listType v20 #static, dynamic; memberCount i; ownerId ->crm_users",
          camel=True),
        T("marketingListMember", "who is on which mailing list",
          "listId ->marketingList !; contactId; leadId; addedAt ts; isSubscribed b", camel=True),
        T("emailCampaign", "email newsletters / mailing blasts",
          "campaignId; subjectLine v255; fromName v120; templateId ->emailTemplate;"
          " scheduledAt ts; sentAt ts; recipientCount i; listId ->marketingList;"
          " senderUserId ->crm_users", camel=True),
        T("emailSend", "one row per email delivered to a recipient",
          "emailCampaignId ->emailCampaign !; contactId; leadId; sentAt ts; delivered b;"
          " bounced b; bounceType v20 #hard, soft", camel=True),
        T("emailEvent", "opens, clicks, unsubscribes tracked per email",
          "emailSendId ->emailSend !; eventType v20 #open, click, unsubscribe, spam_report;"
          " eventAt ts; clickedUrl v500; userAgent v255", camel=True),
        T("unsubscribes", "opt-outs / email preference withdrawals",
          "email v255 !; contact_id; unsubscribed_at ts; reason v120;"
          " email_campaign_id ->emailCampaign"),
        T("landingPage", "campaign landing pages on the website",
          "campaignId; pageTitle v255; url v500; publishedAt ts; visits i; conversions i",
          camel=True),
        T("web_forms", "lead capture forms embedded on the website",
          "form_name v120 !; landing_page_id ->landingPage; campaign_id; redirect_url v500;"
          " is_active b"),
        T("form_submissions", "filled-in web forms (inbound inquiries)",
          "web_form_id !; submitted_at ts; email v255; first_name v80; last_name v80;"
          " company_name v200; lead_id; utm_source v100; utm_medium v100; utm_campaign v100;"
          " ip_address v45"),
        T("ad_spend", "paid advertising costs per channel and day (Google Ads, LinkedIn)",
          "campaign_id; spend_date d; ad_platform v40; impressions bi; clicks i; cost n; currency v3"),
        T("social_posts", "social media posts published",
          "campaign_id; platform v30; posted_at ts; post_text t; likes i; shares i;"
          " comments_count i; author_id ->crm_users"),
        T("webinars", "online seminars / webinars",
          "campaign_id; title v200; scheduled_at ts; duration_min i; host_user_id ->crm_users;"
          " max_attendees i"),
        T("webinar_registrations", "who signed up for and attended webinars",
          "webinar_id !; contact_id; lead_id; registered_at ts; attended b; minutes_watched i"),
        T("trade_shows", "exhibitions and fairs we attend",
          "name v200 !; city v100; country v60; start_date d; end_date d; booth_cost n; campaign_id"),
    ], [
        ("email campaigns with the highest click rate",
         "emailCampaign,emailSend,emailEvent"),
        ("bounce rate per newsletter in {year}",
         "emailCampaign,emailSend"),
        ("how many people opted out after each mailing",
         "unsubscribes,emailCampaign"),
        ("revenue from won deals attributed to each campaign compared with its cost",
         "campaigns,opportunities,opportunity_stages"),
        ("share of registered people who actually attended each webinar",
         "webinars,webinar_registrations"),
        ("inquiries submitted per landing page in {year}",
         "form_submissions,web_forms,landingPage"),
        ("cost per click of paid ads by campaign",
         "ad_spend,campaigns"),
        ("emails opened per company of the recipient",
         "emailSend,emailEvent,contacts,accounts"),
        ("members of each mailing list and whether they are still subscribed",
         "marketingListMember,marketingList,contacts"),
        ("likes and shares per social network in {year}",
         "social_posts"),
        ("booth cost of each exhibition compared with the prospects it generated",
         "trade_shows,campaigns,leads"),
    ]),
    ("support", "Customer support", [
        L("ticket_priorities", "urgency levels for support cases (P1 critical ... P4 low)",
          "response_target_hours i; resolution_target_hours i"),
        L("ticket_statuses", "support case states (new, open, pending customer, resolved, closed)",
          "is_closed b"),
        L("ticket_categories", "types of customer issues (billing, technical, delivery, complaint)",
          "parent_category_id ->ticket_categories"),
        T("support_queues", "support queues / helpdesk groups (first level, second level, billing desk)",
          "name v120 !; team_id; email_alias v120; business_hours v60"),
        T("sla_policies", "service level agreements: response and resolution targets",
          "name v120 !; priority_id; first_response_minutes i; resolution_minutes i;"
          " business_hours_only b"),
        T("tickets", "customer support cases / service requests / complaints",
          "ticket_number v20 !; subject v255; description t; account_id; contact_id; priority_id;"
          " status_id; category_id ->ticket_categories; queue_id;"
          " assigned_user_id #support agent working on the case; channel v20 #email, phone, chat, portal;"
          " opened_at ts; first_response_at ts; resolved_at ts; closed_at ts;"
          " product_id ->products; shop_order_id ->shop_orders; reopened_count i; sla_policy_id"),
        T("ticket_comments", "replies and internal notes on support cases",
          "ticket_id !; author_user_id ->crm_users; author_contact_id ->contacts; commented_at ts;"
          " body t; is_public b"),
        T("sla_breaches", "missed service level targets on support cases",
          "ticket_id !; sla_policy_id; breach_type v20 #first response, resolution; breached_at ts;"
          " minutes_over i"),
        T("csat_surveys", "customer satisfaction survey definitions",
          "name v120 !; channel v20; question_text t; scale_max i; is_active b"),
        T("csat_responses", "satisfaction ratings left by customers after a case (CSAT / NPS)",
          "survey_id; ticket_id; contact_id; score i; nps_score i #0-10 likelihood to recommend;"
          " feedback t; responded_at ts"),
        T("kb_articles", "knowledge base / help centre articles (FAQ)",
          "title v255 !; body t; category_id ->ticket_categories; author_id ->crm_users;"
          " published_at ts; views i; helpful_votes i; unhelpful_votes i; is_published b"),
        T("chatSession", "live chat conversations on the website",
          "contactId; visitorId v64; agentUserId ->crm_users; startedAt ts; endedAt ts; rating i;"
          " ticketId ->tickets; pageUrl v500", camel=True),
        T("chatMessage", "messages within a live chat",
          "sessionId ->chatSession !; senderType v10 #visitor, agent, bot; sentAt ts; messageText t",
          camel=True),
        T("escalations", "support cases escalated to higher tiers or management",
          "ticket_id !; escalated_at ts; escalated_by_id ->crm_users; escalated_to_id ->crm_users;"
          " escalation_level i; reason v255"),
    ], [
        ("open support tickets by priority",
         "tickets,ticket_priorities,ticket_statuses"),
        ("average first response time per support agent in {year}",
         "tickets,crm_users"),
        ("cases that missed their resolution target, per support queue",
         "sla_breaches,tickets,support_queues"),
        ("average satisfaction rating per agent",
         "csat_responses,tickets,crm_users"),
        ("NPS detractors in {year} and the companies they work for",
         "csat_responses,contacts,accounts"),
        ("most viewed help centre articles",
         "kb_articles"),
        ("live chats that turned into support cases",
         "chatSession,tickets"),
        ("escalated complaints per customer company",
         "escalations,tickets,accounts"),
        ("how many cases were opened about each product, by issue type",
         "tickets,products,ticket_categories"),
        ("online orders that led to a customer complaint",
         "tickets,shop_orders"),
    ]),
    ("shop", "E-commerce (web shop)", [
        T("shop_customers", "web shop customers (consumers with an online account)",
          "email v255 !; first_name v80; last_name v80; gender v10; date_of_birth d;"
          " registered_at ts; country v60; city v100; newsletter_opt_in b; customer_group v30;"
          " contact_id; total_orders i; lifetime_value n"),
        T("shop_addresses", "delivery and invoice addresses of shoppers",
          "customer_id !; address_type v20; street v200; city v100; postcode v20; country v60;"
          " is_default_shipping b"),
        T("shop_categories", "online store categories / navigation tree",
          "name v120 !; parent_id ->shop_categories; url_key v200; is_active b; sort_order i"),
        T("shop_products", "products sold in the online store (web catalogue)",
          "sku v40 ! #same as the ERP item code; name v200 !; short_description v500; price n;"
          " special_price n #sale price; category_id ->shop_categories; brand v80; is_visible b;"
          " stock_status v20 #in stock, out of stock, backorder; weight n;"
          " product_id ->products #link to the CRM product catalogue; created_at ts"),
        T("carts", "shopping baskets (including abandoned carts)",
          "customer_id; session_id v64; created_at ts; updated_at ts; is_converted b;"
          " abandoned_email_sent b; coupon_code v40"),
        T("cart_items", "products placed in a shopping basket",
          "cart_id !; product_id ->shop_products !; quantity i; unit_price n; added_at ts"),
        T("shop_orders", "online orders placed in the web shop",
          "increment_id v20 ! #order number shown to the shopper; customer_id; ordered_at ts;"
          " order_state v20 #pending, processing, shipped, complete, canceled, refunded;"
          " subtotal n; shipping_amount n; discount_amount n; tax_amount n; grand_total n;"
          " currency v3; payment_method v40; shipping_method v40; coupon_code v40;"
          " billing_country v60; erp_order_no v20 #sales order number created in the ERP; cart_id"),
        T("shop_order_items", "products on web shop orders",
          "order_id !; product_id ->shop_products; sku v40; name v200; qty_ordered i;"
          " qty_refunded i; price n; row_total n; discount_amount n"),
        T("shop_payments", "online payment transactions (card, PayPal)",
          "order_id !; provider v40; transaction_ref v80; amount n;"
          " payment_status v20 #authorized, captured, failed, refunded; paid_at ts; card_brand v20"),
        T("shop_returns", "returns of web orders (online RMA requests)",
          "order_id !; order_item_id ->shop_order_items; requested_at ts; reason v120;"
          " return_status v20; refund_amount n"),
        T("coupons", "discount codes / vouchers",
          "code v40 !; description v255; discount_type v20 #percent, fixed; discount_value n;"
          " valid_from d; valid_to d; usage_limit i; times_used i; campaign_id"),
        T("coupon_redemptions", "coupon usage per order",
          "coupon_id !; order_id; customer_id; redeemed_at ts; discount_amount n"),
        T("product_reviews", "star ratings and reviews written by shoppers",
          "product_id ->shop_products !; customer_id; rating i #1-5 stars; title v200; review_text t;"
          " submitted_at ts; is_approved b; verified_purchase b"),
        T("wishlists", "saved wish lists of shoppers",
          "customer_id !; name v120; created_at ts; is_public b"),
        T("wishlist_items", "products on wish lists",
          "wishlist_id !; product_id ->shop_products !; added_at ts"),
        T("loyalty_accounts", "loyalty programme memberships (reward points)",
          "customer_id !; tier v20 #bronze, silver, gold; points_balance i; enrolled_at ts"),
        T("loyalty_transactions", "loyalty points earned and redeemed",
          "loyalty_account_id !; order_id; points i; transaction_type v20 #earn, redeem, expire;"
          " occurred_at ts"),
        T("giftCard", "gift vouchers / prepaid gift cards",
          "cardCode v40 !; initialValue n; remainingValue n;"
          " purchasedByCustomerId ->shop_customers; issuedAt ts; expiresAt d; isActive b",
          camel=True),
        T("shop_page_views", "website visits / page views (clickstream)",
          "session_id v64; customer_id; page_url v500; viewed_at ts; referrer v500;"
          " utm_source v100; device_type v20"),
        T("shop_search_queries", "what shoppers typed into the site search",
          "session_id v64; customer_id; query_text v255; results_count i; searched_at ts"),
    ], [
        ("abandoned shopping baskets from the last week and their value",
         "carts,cart_items"),
        ("online store revenue per month in {year}",
         "shop_orders"),
        ("top selling web shop articles for buyers in {country}",
         "shop_order_items,shop_orders,shop_products"),
        ("average star rating per store category",
         "product_reviews,shop_products,shop_categories"),
        ("discount codes that were redeemed most often",
         "coupon_redemptions,coupons"),
        ("gold loyalty members who have not ordered online in six months",
         "loyalty_accounts,shop_customers,shop_orders"),
        ("failed card payments per payment provider",
         "shop_payments"),
        ("refunded amount per product for online returns",
         "shop_returns,shop_order_items"),
        ("outstanding balance on gift vouchers that have not expired",
         "giftCard"),
        ("site searches that found nothing",
         "shop_search_queries"),
        ("shoppers with a lifetime value above {1000|2500} who signed up for the newsletter",
         "shop_customers"),
        ("items most often saved on wish lists",
         "wishlist_items,shop_products"),
    ]),
]

CRM_PREFIXES = set()   # CRM tables carry no domain prefix to strip

# --------------------------------------------------------------------------
# cross-database questions (erp + crm), with the key pairs that join them
# --------------------------------------------------------------------------

CROSS_LINKS = [
    ("crm.accounts.erp_customer_no", "erp.sales_customer.customer_no"),
    ("crm.accounts.id", "erp.sales_customer.crm_account_ref"),
    ("crm.opportunities.erp_order_no", "erp.sales_order.order_no"),
    ("crm.opportunities.id", "erp.sales_order.crm_opportunity_ref"),
    ("crm.shop_orders.erp_order_no", "erp.sales_order.order_no"),
    ("crm.shop_orders.increment_id", "erp.sales_order.web_order_ref"),
    ("crm.crm_users.employee_no", "erp.hr_employee.employee_no"),
    ("crm.products.product_code", "erp.inv_item.item_code"),
    ("crm.shop_products.sku", "erp.inv_item.item_code"),
]

CROSS_QUESTIONS = [
    ("total invoiced revenue in {year} for CRM accounts in the {industry} industry",
     "crm.accounts,crm.industries,erp.sales_customer,erp.ar_invoice"),
    ("companies with unresolved support cases that also have overdue invoices",
     "crm.tickets,crm.accounts,erp.sales_customer,erp.ar_invoice"),
    ("web shop products shown as in stock online but with nothing available in the warehouse",
     "crm.shop_products,erp.inv_item,erp.inv_stock_level"),
    ("won deals in the CRM that never turned into a sales order",
     "crm.opportunities,crm.opportunity_stages,erp.sales_order"),
    ("compare the booked order value with the deal amount for orders that came from CRM opportunities",
     "erp.sales_order,crm.opportunities"),
    ("which HR department does each support agent belong to",
     "crm.crm_users,erp.hr_employee,erp.hr_department"),
    ("sales reps' quarterly quota compared with their annual salary",
     "crm.sales_quotas,crm.crm_users,erp.hr_employee"),
    ("number of customer calls logged per department",
     "crm.calls,crm.crm_users,erp.hr_employee,erp.hr_department"),
    ("delivery status of online orders",
     "crm.shop_orders,erp.sales_order,erp.log_shipment"),
    ("web shop orders whose invoice has not been paid yet",
     "crm.shop_orders,erp.sales_order,erp.ar_invoice"),
    ("average satisfaction score of customers who are on credit hold",
     "crm.csat_responses,crm.tickets,crm.accounts,erp.sales_customer"),
    ("support cases about products that have open quality defect reports",
     "crm.tickets,crm.products,erp.inv_item,erp.qm_nonconformance"),
    ("average review rating versus number of warranty claims per product",
     "crm.product_reviews,crm.shop_products,erp.svc_warranty_claim,erp.inv_item"),
    ("prospects from trade shows that ended up as paying customers",
     "crm.leads,crm.leadSource,crm.accounts,erp.sales_customer"),
    ("customers in the ERP that have no matching account in the CRM",
     "erp.sales_customer,crm.accounts"),
    ("account owners of customers whose service contract expires next quarter",
     "erp.svc_service_contract,erp.sales_customer,crm.accounts,crm.crm_users"),
    ("open deals with customers that are blocked for credit reasons",
     "crm.opportunities,crm.accounts,erp.sales_customer"),
    ("estimated annual revenue in the CRM versus actual order volume in {year} per customer",
     "crm.accounts,erp.sales_customer,erp.sales_order"),
    ("online return requests and the status of the matching return authorisation in the ERP",
     "crm.shop_returns,crm.shop_orders,erp.sales_order,erp.sales_return"),
    ("web shop items priced below their standard cost",
     "crm.shop_products,erp.inv_item"),
    ("contacts at customers whose payment terms are longer than 60 days",
     "crm.contacts,crm.accounts,erp.sales_customer,erp.fin_payment_term"),
    ("support cases raised by customers with a gold service contract",
     "crm.tickets,crm.accounts,erp.sales_customer,erp.svc_service_contract"),
    ("CRM admins who no longer work for the company",
     "crm.crm_users,erp.hr_employee"),
    ("products on CRM deals that have no preferred supplier",
     "crm.opportunity_products,crm.products,erp.inv_item"),
    ("CRM accounts whose billing country differs from the country of the customer record in the ERP",
     "crm.accounts,erp.sales_customer,erp.ref_country"),
    ("online shop SKUs that do not exist in the item master",
     "crm.shop_products,erp.inv_item"),
    ("trainings completed by support agents in {year}",
     "crm.crm_users,erp.hr_employee,erp.hr_training_enrollment,erp.hr_training_course"),
    ("web orders booked in {year} from shoppers who subscribed to the newsletter",
     "erp.sales_order,crm.shop_orders,crm.shop_customers"),
    ("current stock of the products that were reviewed with one star",
     "crm.product_reviews,crm.shop_products,erp.inv_item,erp.inv_stock_level"),
    ("ERP customer numbers and credit limits of companies that have an escalated complaint",
     "crm.escalations,crm.tickets,crm.accounts,erp.sales_customer"),
    ("online orders whose sales order has still not been shipped",
     "crm.shop_orders,erp.sales_order"),
    ("CRM account owners of the customers with the largest open receivables",
     "crm.accounts,crm.crm_users,erp.sales_customer,erp.ar_invoice"),
    ("commission earned in {year} compared with the open pipeline of each sales rep",
     "crm.opportunities,crm.crm_users,erp.hr_employee,erp.sales_commission"),
    ("warehouse stock of the products currently sitting in shopping baskets",
     "crm.cart_items,crm.shop_products,erp.inv_item,erp.inv_stock_level"),
    ("CRM products whose list price differs from the list price in the item master",
     "crm.products,erp.inv_item"),
]

PARAMS = {
    "year": ["2022", "2023", "2024"],
    "q": ["1", "2", "3", "4"],
    "month": ["January", "March", "June", "September", "November", "December"],
    "country": ["Germany", "France", "Spain", "Italy", "Poland", "the Netherlands",
                "Austria", "Sweden"],
    "sku": ["ART-10042", "ART-20317", "MAT-00815", "FG-4471", "SP-9023"],
    "industry": ["automotive", "pharmaceutical", "retail", "logistics", "food and beverage"],
}

# --------------------------------------------------------------------------
# identifiers
# --------------------------------------------------------------------------

# Reserved words of PostgreSQL 15 (reserved + type/function-name category) and
# MariaDB 10.11 that a generated identifier must never be.
RESERVED = set("""
all analyse analyze and any array as asc asymmetric both case cast check collate column
constraint create current_catalog current_date current_role current_time current_timestamp
current_user default deferrable desc distinct do else end except false fetch for foreign from
grant group having in initially intersect into lateral leading limit localtime localtimestamp
not null offset on only or order placing primary references returning select session_user
some symmetric table then to trailing true union unique user using variadic when where window
with authorization binary collation concurrently cross current_schema freeze full ilike inner
is isnull join left like natural notnull outer overlaps right similar tablesample verbose
accessible add alter before between bigint blob by call cascade change char character
condition continue convert database databases day_hour dec decimal declare delayed delete
describe deterministic distinctrow div double drop dual each elseif enclosed escaped exists
exit explain float force fulltext general ignore index infile inout insensitive insert int
integer interval iterate keys key kill leave lines linear load lock long loop match maxvalue
mediumint modifies mod no_write_to_binlog numeric optimize option optionally out outfile over
partition precision procedure purge range read reads real recursive regexp release rename
repeat replace require resignal restrict return revoke rlike row_number rows schema schemas
sensitive separator set show signal smallint spatial specific sql sqlexception sqlstate
sqlwarning ssl starting stored straight_join terminated tinyint trigger undo unlock unsigned
update usage use utc_date utc_time utc_timestamp values varbinary varchar varying virtual
while write xor year_month zerofill rank lead lag position
""".split())

SNAKE = re.compile(r"[a-z_][a-z0-9_]*")


def pg_ident(name):
    if SNAKE.fullmatch(name) and name not in RESERVED:
        return name
    return '"%s"' % name.replace('"', '""')


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def is_camel(name):
    return bool(re.search(r"[a-z][A-Z]", name))


def lower_first(s):
    return s[:1].lower() + s[1:]


def singular(w):
    if w.endswith("ies"):
        return w[:-3] + "y"
    for suf in ("sses", "shes", "ches", "xes", "uses"):
        if w.endswith(suf):
            return w[:-2]
    if w.endswith("ss") or w.endswith("us"):
        return w
    if w.endswith("s"):
        return w[:-1]
    return w


def entity_base(table, prefixes):
    parts = table.name.split("_", 1)
    base = parts[1] if len(parts) == 2 and parts[0] in prefixes else table.name
    return base


def fk_col_for(parent, prefixes, camel):
    base = entity_base(parent, prefixes)
    if is_camel(base) or camel:
        words = re.sub(r"([A-Z])", r"_\1", base).lower().split("_")
        words = [w for w in words if w]
        words[-1] = singular(words[-1])
        return words[0] + "".join(w.capitalize() for w in words[1:]) + "Id"
    words = base.split("_")
    words[-1] = singular(words[-1])
    return "_".join(words) + "_id"


def label_of(table):
    """Short human label for generated comments: the start of the core comment."""
    c = table.comment or table.name.replace("_", " ")
    c = re.split(r"[(:]", c)[0].strip()
    return c[:70].rstrip(" ,/")


# --------------------------------------------------------------------------
# audit columns and sprinkles on core tables
# --------------------------------------------------------------------------

COMMON_COL_COMMENTS = {
    "assigned_user_id": "user who owns the record", "deleted": "soft delete flag (1 = deleted)",
    "date_entered": "when the record was created", "currency": "ISO 4217 currency code",
    "email": "e-mail address", "employees": "number of employees",
    "annual_revenue": "yearly turnover of the company", "probability": "chance to win in percent",
    "grand_total": "order total including tax and shipping",
    "subtotal": "sum of item prices before discounts, tax and shipping",
    "qty_ordered": "ordered quantity", "views": "number of page views", "clicks": "number of ad clicks",
    "impressions": "number of times the ad was shown", "cost": "spend in account currency",
    "iban": "International Bank Account Number", "bic": "SWIFT / BIC code of the bank",
    "vat_number": "VAT identification number", "incoterm": "delivery terms (EXW, DAP, DDP ...)",
    "account_no": "ledger account number", "line_no": "position on the document",
    "uom_id": "unit of measure", "currency_id": "document currency", "company_id": "legal entity",
    "cost_center_id": "cost centre charged", "lot_id": "batch", "is_active": "inactive records are hidden",
    "region": "sales region", "priority": "urgency", "valid_from": "start of validity",
    "valid_to": "end of validity (empty = open ended)", "quantity_on_hand": "physical stock",
    "credit_limit": "maximum open receivables allowed for this customer",
    "tracking_no": "parcel tracking number from the carrier",
    "freight_cost": "transport cost charged by the carrier", "seats": "number of licensed users",
    "net_book_value": "acquisition cost minus accumulated depreciation",
    "headcount": "number of people to hire",
    "utm_source": "traffic source from the tracking link (e.g. google, newsletter)",
    "utm_medium": "marketing medium (cpc, email, social)", "utm_campaign": "campaign name from the tracking link",
    "tier": "membership level", "points_balance": "reward points available",
    "stage_id": "current pipeline stage", "lead_source_id": "origin of the lead",
    "industry_id": "industry / sector", "queue_id": "support team handling the case",
    "customer_id": "customer", "supplier_id": "vendor", "item_id": "article / material",
    "employee_id": "staff member", "warehouse_id": "storage site", "project_id": "project",
    "first_response_at": "first reply of an agent to the customer",
    "resolved_at": "when the issue was solved", "duration_seconds": "length of the call",
    "special_price": "discounted sale price", "is_visible": "shown in the online store",
}


def add_standard_columns(rng, tables, db):
    for t in tables:
        for c in t.cols:
            if c.comment is None and c.name in COMMON_COL_COMMENTS and rng.random() < 0.6:
                c.comment = COMMON_COL_COMMENTS[c.name]
        existing = set(t.colnames())
        room = MAX_COLS - len(t.colnames())
        if t.kind == "lookup":
            opts = [[], ["created_at"], ["created_at", "updated_at"]]
        else:
            opts = [[], ["created_at", "updated_at"], ["created_at", "created_by", "updated_at", "updated_by"],
                    ["created_at", "updated_at"], ["created_at", "created_by", "updated_at"],
                    ["created_at", "updated_at", "row_version"]]
        if db == "crm" and not t.camel and t.kind == "core":
            # SuiteCRM style
            opts = [["date_modified"], ["date_modified", "modified_user_id", "created_by"],
                    ["created_at", "updated_at"], []]
        chosen = rng.choice(opts)
        extra = []
        for c in chosen:
            name = c
            if t.camel:
                name = {"created_at": "createdAt", "updated_at": "updatedAt", "created_by": "createdBy",
                        "updated_by": "updatedBy", "row_version": "rowVersion",
                        "date_modified": "updatedAt", "modified_user_id": "updatedBy"}[c]
            if name in existing or name in [x.name for x in extra]:
                continue
            if c in ("created_at",):
                col = Col(name, ("ts",), notnull=True, default="now")
                if rng.random() < 0.3:
                    col.comment = "record creation time"
            elif c in ("updated_at", "date_modified"):
                col = Col(name, ("ts",), default="onupdate" if db == "crm" else None)
                if rng.random() < 0.2:
                    col.comment = "last change of the record"
            elif c in ("created_by", "updated_by", "modified_user_id"):
                col = Col(name, ("varchar", 60) if c != "modified_user_id" else ("varchar", 36))
                if rng.random() < 0.2:
                    col.comment = "login name of the user who made the change"
            else:
                col = Col(name, ("int",), notnull=True, default="0")
                if rng.random() < 0.5:
                    col.comment = "optimistic locking counter"
            extra.append(col)
        # a few camelCase columns on otherwise snake_case tables (ORM leftovers)
        if db == "erp" and not t.camel and t.kind == "core" and rng.random() < 0.12:
            name, typ, com = rng.choice([
                ("externalRef", ("varchar", 64), "reference in the external source system"),
                ("legacyId", ("varchar", 40), "key in the old ERP before the migration"),
                ("syncedAt", ("ts",), None),
                ("sourceSystem", ("varchar", 20), "system the record was imported from"),
            ])
            if name not in existing:
                extra.append(Col(name, typ, comment=com if rng.random() < 0.6 else None))
        t.cols.extend(extra[:max(0, room)])


def mark_defaults(t):
    for c in t.cols:
        if c.typ == ("bool",) and c.default is None and (c.name.startswith(("is_", "has_")) or c.name in ("deleted",)):
            c.notnull, c.default = True, "false"


# --------------------------------------------------------------------------
# generated tables: satellites (real) and noise copies (look-alikes)
# --------------------------------------------------------------------------

ERP_SATS = [
    ("note", "notes and remarks on {label}",
     "note_text t !; author_id ->sys_user; noted_at ts"),
    ("attachment", "files attached to {label} (scans, PDFs)",
     "file_name v255 !; mime_type v100; file_size_bytes bi; storage_path v500;"
     " uploaded_by_id ->sys_user; uploaded_at ts"),
    ("status_log", "status change history of {label}",
     "old_status v30; new_status v30 !; changed_at ts !; changed_by_id ->sys_user; change_reason v255"),
    ("tag", "free keywords / labels for {label}",
     "tag_value v60 !; tagged_at ts"),
    ("ext", "custom fields (user-defined attributes) for {label}",
     "attr_name v60 !; attr_value t; attr_datatype v20"),
    ("approval", "approval workflow steps for {label}",
     "step_no i; approver_id ->hr_employee; decision v20; decided_at ts; decision_comment t"),
    ("change_log", "field-level change log of {label}",
     "field_name v60 !; old_value t; new_value t; changed_at ts; changed_by_id ->sys_user"),
    ("ext_ref", "identifiers of {label} in external systems",
     "external_system v40 !; external_key v80 !; last_synced_at ts"),
    ("comment", "discussion thread / comments on {label}",
     "author_id ->hr_employee; commented_at ts; comment_text t"),
]
ERP_I18N = ("translation", "translated names and texts of {label}",
            "language_code v5 !; translated_name v200; translated_description t")

CRM_SATS = [
    ("audit", "field audit trail of {label}",
     "date_created ts; created_by v36; field_name v100; data_type v100;"
     " before_value_string v255; after_value_string v255; before_value_text t; after_value_text t"),
    ("cstm", "custom fields of {label} (studio fields)", None),
    ("attachments", "files attached to {label}",
     "file_name v255 !; file_mime_type v100; file_size i; uploaded_by_id ->crm_users; uploaded_at ts"),
    ("tags", "tags on {label}", "tag v60 !; tagged_at ts"),
    ("followers", "users following changes of {label}",
     "user_id ->crm_users !; followed_at ts"),
    ("shares", "sharing rules: users who can see {label}",
     "shared_with_user_id ->crm_users !; access_level v20; shared_at ts"),
    ("history", "change history of {label}",
     "changed_field v100; old_value t; new_value t; changed_at ts; changed_by_id ->crm_users"),
]

CSTM_FIELDS = [
    ("region_c", ("varchar", 100)), ("segment_c", ("varchar", 60)), ("nps_c", ("int",)),
    ("legacy_id_c", ("varchar", 40)), ("vip_c", ("bool",)), ("source_detail_c", ("varchar", 255)),
    ("sap_number_c", ("varchar", 20)), ("gdpr_consent_c", ("bool",)),
    ("consent_date_c", ("date",)), ("language_c", ("varchar", 10)),
    ("internal_notes_c", ("text",)), ("score_c", ("int",)), ("tier_c", ("varchar", 20)),
    ("owner_region_c", ("varchar", 60)), ("renewal_date_c", ("date",)),
]

INTEGRATIONS_ERP = {
    "hr": ["workday", "successfactors"], "pay": ["adp", "datev"], "fin": ["datev", "kyriba", "blackline"],
    "ap": ["coupa", "tungsten"], "ar": ["billtrust", "datev"], "sales": ["salesforce", "edi"],
    "pur": ["coupa", "ariba", "edi"], "inv": ["sap", "legacy"], "wh": ["manhattan", "legacy"],
    "log": ["transporeon", "dhl"], "mfg": ["mes", "sap"], "qm": ["mes"], "prj": ["jira"],
    "ast": ["sap"], "sub": ["stripe", "chargebee"], "bil": ["stripe"], "crm": ["salesforce"],
    "mkt": ["hubspot"], "svc": ["servicenow"], "hd": ["servicenow", "jira"],
}
INTEGRATIONS_CRM = ["hubspot", "mailchimp", "zendesk", "magento", "salesforce", "sync_erp", "segment"]

NOISE_COMMENTS = {
    "hist": ["history of {name} (SCD type 2 versions)", "{label} - historical versions",
             "change history copy of {name}", None],
    "stg": ["staging: raw load of {name} from the legacy system", "ETL staging table for {label}",
            "landing table, truncated before each nightly load", None, None],
    "tmp": [None, None, "temporary table, can be dropped", "tmp copy of {name} for data fix"],
    "bak": [None, "backup of {name} before migration", "backup before year-end close"],
    "arch": ["{label} - archived records (closed years)", "archive of {name}",
             "{label} (archive, read only)", None],
    "audit": ["audit trail of changes to {name}", "trigger-written audit log for {label}", None],
    "old": [None, "DEPRECATED: replaced by {name}", "old version of {name}, do not use"],
    "snap": ["month-end snapshot of {label}", "{label} - snapshot for reporting", None],
    "rpt": ["reporting mart: monthly aggregates of {label}", "report table refreshed nightly from {name}",
            None],
    "int": ["{sys} interface buffer for {label}", "records exchanged with {sys}", None],
    "x": [None, "customer-specific extension of {name}", None],
    "etl": [None, "delta extract of {name} for the data warehouse"],
    "dwh": ["data warehouse copy of {label}", "DWH: {label} (loaded nightly)", None],
    "migr": [None, "migration buffer: {label} from the old ERP", "loaded once during go-live 2019"],
}


def copy_cols(parent, rng, keep_fk_comments, as_text=False, limit=None):
    cols = []
    for c in parent.cols:
        n = c.copy()
        n.ref = None
        if n.typ is None:
            n.typ = ("bigint",)
        if as_text:
            n.typ = ("text",)
        n.notnull = False
        if n.default in ("now", "onupdate"):
            n.default = None
        if n.default is not None and not n.notnull:
            n.default = None
        if not (keep_fk_comments and rng.random() < 0.35):
            n.comment = None
        cols.append(n)
    if limit is not None:
        cols = cols[:limit]
    return cols


def fmt_comment(tpl, parent, **kw):
    if tpl is None:
        return None
    return tpl.format(name=parent.name, label=label_of(parent), **kw)


def make_noise(rng, parent, variant, name, db, sysname=None):
    camel = parent.camel or is_camel(parent.name)
    c = lambda snake, cam: cam if camel else snake
    room = MAX_COLS - 1
    if variant == "hist":
        extra = [Col(c("valid_from", "validFrom"), ("ts",)), Col(c("valid_to", "validTo"), ("ts",)),
                 Col(c("source_id", "sourceId"), ("bigint",))]
        cols = copy_cols(parent, rng, True, limit=room - len(extra)) + extra
    elif variant == "stg":
        extra = [Col(c("load_batch_id", "loadBatchId"), ("bigint",)),
                 Col(c("loaded_at", "loadedAt"), ("ts",)),
                 Col(c("source_file", "sourceFile"), ("varchar", 255))]
        cols = copy_cols(parent, rng, False, as_text=(db == "erp"), limit=room - len(extra)) + extra
    elif variant in ("tmp", "x"):
        k = max(3, rng.randint(3, max(3, len(parent.cols))))
        cols = copy_cols(parent, rng, False, limit=min(k, room))
        if len(cols) < 3:
            cols += [Col("fix_flag", ("bool",)), Col("fix_note", ("text",)), Col("fixed_at", ("ts",))][:3 - len(cols)]
    elif variant in ("bak", "old", "snap"):
        cols = copy_cols(parent, rng, variant != "bak", limit=room - 1)
        if variant == "snap":
            cols.append(Col(c("snapshot_date", "snapshotDate"), ("date",), notnull=True))
        elif len(cols) < 3:
            cols.append(Col("migrated", ("bool",)))
    elif variant == "arch":
        cols = copy_cols(parent, rng, True, limit=room - 1) + [Col(c("archived_at", "archivedAt"), ("ts",))]
    elif variant == "audit":
        cols = [Col(c("record_id", "recordId"), ("bigint",), notnull=True),
                Col(c("operation", "operation"), ("varchar", 10), comment="INSERT, UPDATE or DELETE" if rng.random() < 0.5 else None),
                Col(c("changed_at", "changedAt"), ("ts",)), Col(c("changed_by", "changedBy"), ("varchar", 60)),
                Col(c("old_data", "oldData"), ("text",)), Col(c("new_data", "newData"), ("text",))]
    elif variant == "rpt":
        num = [x for x in parent.cols if x.typ and x.typ[0] == "num"][:4]
        cols = [Col("period_month", ("date",), notnull=True), Col("dimension_key", ("varchar", 120)),
                Col("record_count", ("int",))]
        for x in num:
            cols.append(Col("sum_" + re.sub(r"([A-Z])", r"_\1", x.name).lower().strip("_"), ("num", 18, 2)))
        cols.append(Col("refreshed_at", ("ts",)))
    elif variant == "int":
        cols = [Col("external_id", ("varchar", 80), notnull=True), Col("local_id", ("bigint",)),
                Col("payload", ("text",)), Col("sync_status", ("varchar", 20)),
                Col("last_synced_at", ("ts",)), Col("error_message", ("text",))]
        cols += copy_cols(parent, rng, False, limit=rng.randint(0, 5))
    elif variant in ("dwh", "migr"):
        cols = copy_cols(parent, rng, variant == "dwh", limit=room - 1) + [
            Col(c("dwh_load_ts", "dwhLoadTs") if variant == "dwh" else c("legacy_key", "legacyKey"),
                ("ts",) if variant == "dwh" else ("varchar", 40))]
    elif variant == "etl":
        cols = copy_cols(parent, rng, False, limit=room - 2) + [
            Col("etl_op", ("varchar", 1)), Col("etl_ts", ("ts",))]
    else:
        raise ValueError(variant)
    seen, uniq = {"id"}, []
    for col in cols:
        if col.name not in seen:
            seen.add(col.name)
            uniq.append(col)
    cols = uniq[:room]
    while len(cols) < 3:
        cols.append(Col("filler_%d" % len(cols), ("text",)))
    tpl = rng.choice(NOISE_COMMENTS[variant])
    comment = fmt_comment(tpl, parent, sys=(sysname or "").upper())
    t = Table(name, comment, cols, "noise", "big", parent.camel)
    t.domain = parent.domain
    return t


def make_sat(rng, parent, suffix, comment_tpl, spec, db, prefixes, fk_defaults):
    camel = parent.camel or is_camel(parent.name)
    if is_camel(parent.name):
        name = parent.name + "".join(w.capitalize() for w in suffix.split("_"))
    else:
        name = parent.name + "_" + suffix
    fkname = fk_col_for(parent, prefixes, camel)
    fk = Col(fkname, None, parent.name, notnull=True)
    if spec is None:   # cstm
        fields = rng.sample(CSTM_FIELDS, rng.randint(3, 8))
        cols = [fk] + [Col(n, t) for n, t in fields]
    else:
        cols = [fk] + parse_cols(spec, fk_defaults)
        if camel:
            for col in cols[1:]:
                if "_" in col.name:
                    ws = col.name.split("_")
                    col.name = ws[0] + "".join(w.capitalize() for w in ws[1:])
    comment = comment_tpl.format(label=label_of(parent)) if rng.random() < 0.7 else None
    t = Table(name, comment, cols, "sat", "big", parent.camel)
    t.domain = parent.domain
    return t


def generated_candidates(rng, core, db, prefixes, fk_defaults, taken):
    """All candidate generated tables, deterministic order; caller picks a subset."""
    cands = []

    def add(t):
        if t.name in taken or len(t.name) > (63 if db == "erp" else 56):
            return
        taken.add(t.name)
        cands.append(t)

    entities = [t for t in core if t.kind == "core"]
    for p in entities:
        camel_name = is_camel(p.name)
        # satellites
        sats = ERP_SATS if db == "erp" else CRM_SATS
        if db == "erp":
            minor = re.search(r"_(line|allocation|role|component|result|stop|operation|acknowledgement|enrollment|assignment|skill)$", p.name)
            k = rng.choice([1, 2, 2]) if minor else rng.choice([2, 3, 3, 4, 4, 5, 6])
        else:
            k = rng.choice([3, 4, 4, 5]) if p.name in CRM_MAIN else rng.choice([0, 1, 2, 2, 3])
        for suffix, ctpl, spec in rng.sample(sats, k):
            add(make_sat(rng, p, suffix, ctpl, spec, db, prefixes, fk_defaults))
        if db == "erp" and re.search(r"_(item|item_category|training_course|policy|plan|rate_plan|skill|asset_category|leave_type)$", p.name) and rng.random() < 0.7:
            add(make_sat(rng, p, *ERP_I18N, db, prefixes, fk_defaults))
        # noise copies
        if db == "erp":
            base = entity_base(p, prefixes)
            dom = p.domain
            variants = [
                (0.45, "hist", p.name + rng.choice(["_hist", "_history", "_hist"])),
                (0.40, "stg", "stg_" + p.name),
                (0.25, "tmp", rng.choice(["tmp_" + p.name, "tmp_" + p.name + "_fix",
                                          "tmp_%s_%d" % (base, rng.choice([2019, 2021, 2023]))])),
                (0.25, "bak", rng.choice(["bak_%s_%s" % (p.name, rng.choice(["20211231", "20230630", "20240115"])),
                                          p.name + "_bak"])),
                (0.30, "arch", rng.choice([p.name + "_arch", p.name + "_archive", "arch_" + p.name])),
                (0.25, "audit", p.name + "_audit"),
                (0.20, "old", rng.choice([p.name + "_old", p.name + "_v1", p.name + "_copy"])),
                (0.15, "snap", p.name + "_snapshot"),
                (0.15, "x", rng.choice(["x_" + p.name, "z_" + p.name])),
                (0.15, "etl", "etl_%s_delta" % p.name),
                (0.20, "rpt", "rpt_%s_%s" % (base, rng.choice(["monthly", "by_month", "summary", "kpi"]))),
                (0.25, "dwh", rng.choice(["dwh_" + p.name, "dwh_%s_%s" % ("fact" if TRANSACTIONAL.search(p.name) else "dim", base)])),
                (0.20, "migr", rng.choice(["migr_" + p.name, "mig_%s_legacy" % base])),
            ]
            for prob, variant, name in variants:
                if rng.random() < min(0.9, prob * NOISE_BOOST):
                    add(make_noise(rng, p, variant, name, db))
            # yearly split copies of transactional tables (same columns, same comment)
            if TRANSACTIONAL.search(p.name) and rng.random() < 0.55:
                first = rng.choice([2015, 2016, 2017, 2018, 2019])
                for year in range(first, first + rng.randint(2, 5)):
                    y = Table("%s_%d" % (p.name, year),
                              "%s - fiscal year %d (split table)" % (label_of(p), year) if rng.random() < 0.6 else None,
                              copy_cols(p, rng, True, limit=MAX_COLS - 1), "noise", "big", p.camel)
                    y.domain = p.domain
                    add(y)
            if dom in INTEGRATIONS_ERP and rng.random() < 0.35:
                sysname = rng.choice(INTEGRATIONS_ERP[dom])
                add(make_noise(rng, p, "int", "int_%s_%s" % (sysname, base), db, sysname))
        else:
            n = p.name
            if camel_name:
                variants = [
                    (0.5, "bak", n + rng.choice(["Backup", "Bak", "Old"])),
                    (0.4, "tmp", "tmp" + n[0].upper() + n[1:]),
                    (0.3, "arch", n + "Archive"),
                    (0.3, "stg", "stg_" + n),
                ]
            else:
                variants = [
                    (0.45, "bak", rng.choice([n + "_bak", n + "_backup_%s" % rng.choice(["2021", "20220301", "2023"])])),
                    (0.35, "old", rng.choice([n + "_old", n + "_copy", n + "_v1"])),
                    (0.35, "tmp", rng.choice(["tmp_" + n, "tmp_" + n + "_import", "tmp_%s_dedup" % n])),
                    (0.30, "stg", rng.choice(["stg_" + n, n + "_import_%s" % rng.choice(["2022", "2023"])])),
                    (0.25, "arch", n + "_archive"),
                    (0.20, "x", "x_" + n),
                    (0.20, "rpt", "rpt_%s_%s" % (n, rng.choice(["daily", "weekly", "monthly"]))),
                    (0.15, "snap", n + "_snapshot"),
                ]
            for prob, variant, name in variants:
                if rng.random() < min(0.9, prob * CRM_NOISE_BOOST):
                    add(make_noise(rng, p, variant, name, db))
            if rng.random() < 0.35:
                sysname = rng.choice(INTEGRATIONS_CRM)
                add(make_noise(rng, p, "int", "%s_%s" % (sysname, n), db, sysname))
    # CRM: SuiteCRM-style many-to-many relationship tables parent_child
    if db == "crm":
        byname = {t.name: t for t in core}
        for child in entities:
            for col in child.cols:
                if (col.ref and col.ref != child.name and col.ref in CRM_MAIN and child.name in CRM_MAIN
                        and rng.random() < 0.8):
                    parent = byname[col.ref]
                    if is_camel(parent.name) or is_camel(child.name):
                        continue
                    name = "%s_%s" % (parent.name, child.name)
                    a = fk_col_for(parent, prefixes, False)
                    b = fk_col_for(child, prefixes, False)
                    if a == b:
                        continue
                    rel = Table(name,
                                "relationship %s - %s" % (parent.name, child.name) if rng.random() < 0.5 else None,
                                [Col(a, None, parent.name, notnull=True), Col(b, None, child.name, notnull=True),
                                 Col("date_modified", ("ts",)), Col("deleted", ("bool",), notnull=True, default="false")],
                                "sat", "big")
                    rel.domain = child.domain
                    add(rel)
    return cands


# --------------------------------------------------------------------------
# schema assembly
# --------------------------------------------------------------------------

def assemble(rng, domains_raw, fk_defaults, db, target):
    domains, core = [], []
    for code, title, raw_tables, questions in domains_raw:
        tables = build_tables(raw_tables, fk_defaults)
        d = Domain(code, title, tables, questions)
        domains.append(d)
        core.extend(tables)
    prefixes = ERP_PREFIXES if db == "erp" else CRM_PREFIXES
    add_standard_columns(rng, core, db)
    taken = {t.name for t in core}
    assert len(taken) == len(core), "duplicate core table names"
    cands = generated_candidates(rng, core, db, prefixes, fk_defaults, taken)
    need = target - len(core)
    assert len(cands) >= need, "%s: only %d generated candidates for %d slots" % (db, len(cands), need)
    chosen = rng.sample(cands, need)
    print("%s: %d core tables, %d generated candidates, %d chosen" % (db, len(core), len(cands), need))
    tables = core + chosen
    for t in tables:
        mark_defaults(t)
    byname = {t.name: t for t in tables}
    # resolve FK column types (type of the referenced primary key)
    for t in tables:
        for c in t.cols:
            if c.ref is not None:
                assert c.ref in byname, "%s.%s references missing table %s" % (t.name, c.name, c.ref)
                c.typ = ("int",) if byname[c.ref].pk == "int" else ("bigint",)
    for t in tables:
        t.pk_style = rng.choice(["identity", "identity", "serial"]) if db == "erp" else "auto"
    return domains, tables


def validate(tables, db):
    maxlen = 63 if db == "erp" else 56
    names = set()
    for t in tables:
        assert t.name not in names, "duplicate table %s" % t.name
        names.add(t.name)
        assert len(t.name) <= maxlen, "table name too long: %s" % t.name
        assert t.name.lower() not in RESERVED, t.name
        cn = t.colnames()
        assert len(cn) == len(set(cn)), "duplicate column in %s: %s" % (t.name, cn)
        assert MIN_COLS <= len(cn) <= MAX_COLS, "%s has %d columns" % (t.name, len(cn))
        for c in cn:
            assert c.lower() not in RESERVED, "reserved identifier %s.%s" % (t.name, c)
            assert len(c) <= 63, c
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", c), c
        if db == "crm":
            # all-lowercase comparison must stay unique too (lower_case_table_names portability)
            pass
    if db == "crm":
        low = [t.name.lower() for t in tables]
        assert len(low) == len(set(low)), "case-insensitive duplicate table names"


# --------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------

def pg_type(typ):
    k = typ[0]
    return {"int": "integer", "bigint": "bigint", "text": "text", "date": "date",
            "ts": "timestamptz", "bool": "boolean"}.get(k) or (
        "numeric(%d,%d)" % (typ[1], typ[2]) if k == "num" else "varchar(%d)" % typ[1])


def my_type(typ):
    k = typ[0]
    return {"int": "int", "bigint": "bigint", "text": "text", "date": "date",
            "ts": "datetime", "bool": "tinyint(1)"}.get(k) or (
        "decimal(%d,%d)" % (typ[1], typ[2]) if k == "num" else "varchar(%d)" % typ[1])


def render_pg(tables):
    out = ["-- ERP schema (PostgreSQL 15), generated by tests/retrieval/generate.py -- do not edit.",
           "-- %d tables in schema public; load with: psql -v ON_ERROR_STOP=1 -f erp_pg.sql" % len(tables),
           "",
           "SET client_encoding = 'UTF8';",
           "SET search_path = public;",
           ""]
    ordered = sorted(tables, key=lambda t: t.name)
    for t in ordered:
        lines = []
        if t.pk_style == "serial":
            lines.append("    id %s PRIMARY KEY" % ("serial" if t.pk == "int" else "bigserial"))
        else:
            lines.append("    id %s GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
                         % ("integer" if t.pk == "int" else "bigint"))
        for c in t.cols:
            s = "    %s %s" % (pg_ident(c.name), pg_type(c.typ))
            if c.notnull:
                s += " NOT NULL"
            if c.default == "now":
                s += " DEFAULT now()"
            elif c.default == "false":
                s += " DEFAULT false"
            elif c.default == "0":
                s += " DEFAULT 0"
            lines.append(s)
        out.append("CREATE TABLE %s (\n%s\n);\n" % (pg_ident(t.name), ",\n".join(lines)))
    out.append("")
    for t in ordered:
        if t.comment:
            out.append("COMMENT ON TABLE %s IS %s;" % (pg_ident(t.name), sql_str(t.comment)))
        for c in t.cols:
            if c.comment:
                out.append("COMMENT ON COLUMN %s.%s IS %s;" % (pg_ident(t.name), pg_ident(c.name), sql_str(c.comment)))
    out.append("")
    for t in ordered:
        for c in t.cols:
            if c.ref:
                out.append("ALTER TABLE %s ADD FOREIGN KEY (%s) REFERENCES %s (id);"
                           % (pg_ident(t.name), pg_ident(c.name), pg_ident(c.ref)))
    out.append("")
    return "\n".join(out)


def render_my(tables):
    out = ["-- CRM schema (MariaDB 10.11), generated by tests/retrieval/generate.py -- do not edit.",
           "-- %d tables; load into an existing database: mariadb crm < crm_mariadb.sql" % len(tables),
           "",
           "SET NAMES utf8mb4;",
           "SET FOREIGN_KEY_CHECKS=0;",
           ""]
    for t in sorted(tables, key=lambda t: t.name):
        lines = ["  id %s NOT NULL AUTO_INCREMENT" % ("int" if t.pk == "int" else "bigint")]
        for c in t.cols:
            s = "  %s %s" % (c.name, my_type(c.typ))
            if c.notnull:
                s += " NOT NULL"
            if c.default == "now":
                s += " DEFAULT current_timestamp()"
            elif c.default == "onupdate":
                s += " DEFAULT NULL ON UPDATE current_timestamp()"
            elif c.default == "false" or c.default == "0":
                s += " DEFAULT 0"
            elif not c.notnull and c.typ[0] != "text":
                s += " DEFAULT NULL"
            if c.comment:
                s += " COMMENT %s" % sql_str(c.comment)
            lines.append(s)
        lines.append("  PRIMARY KEY (id)")
        for c in t.cols:
            if c.ref:
                lines.append("  FOREIGN KEY (%s) REFERENCES %s (id)" % (c.name, c.ref))
        tail = ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
        if t.comment:
            tail += " COMMENT=%s" % sql_str(t.comment)
        out.append("CREATE TABLE %s (\n%s\n%s;\n" % (t.name, ",\n".join(lines), tail))
    out.append("SET FOREIGN_KEY_CHECKS=1;")
    out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------
# questions
# --------------------------------------------------------------------------

def fill(rng, template):
    def rep(m):
        inner = m.group(1)
        if "|" in inner:
            return rng.choice(inner.split("|"))
        return rng.choice(PARAMS[inner])
    return re.sub(r"\{([^}]*)\}", rep, template)


def fk_edges(tables):
    edges = set()
    for t in tables:
        for c in t.cols:
            if c.ref and c.ref != t.name:
                edges.add(frozenset((t.name, c.ref)))
    return edges


def connected(nodes, edges):
    nodes = list(nodes)
    if len(nodes) <= 1:
        return True
    seen, todo = {nodes[0]}, [nodes[0]]
    while todo:
        a = todo.pop()
        for b in nodes:
            if b not in seen and frozenset((a, b)) in edges:
                seen.add(b)
                todo.append(b)
    return len(seen) == len(nodes)


def build_questions(rng, erp_domains, crm_domains):
    rows = []
    for prefix, domains in (("erp", erp_domains), ("crm", crm_domains)):
        for d in domains:
            for tpl, tabs in d.questions:
                rows.append((fill(rng, tpl), ["%s.%s" % (prefix, x.strip()) for x in tabs.split(",")]))
    for tpl, tabs in CROSS_QUESTIONS:
        rows.append((fill(rng, tpl), [x.strip() for x in tabs.split(",")]))
    return rows


def check_questions(rows, erp_tables, crm_tables):
    by = {"erp": {t.name: t for t in erp_tables}, "crm": {t.name: t for t in crm_tables}}
    edges = {"erp": fk_edges(erp_tables), "crm": fk_edges(crm_tables)}
    cross_edges = set()
    for a, b in CROSS_LINKS:
        ta, ca = a.rsplit(".", 1)
        tb, cb = b.rsplit(".", 1)
        for full, col in ((ta, ca), (tb, cb)):
            db, name = full.split(".")
            assert name in by[db], "cross link names missing table %s" % full
            assert col in by[db][name].colnames(), "cross link names missing column %s.%s" % (full, col)
        cross_edges.add(frozenset((ta, tb)))
    seen_q = set()
    for q, tabs in rows:
        assert "\t" not in q and "\n" not in q and q.strip() == q, q
        assert q not in seen_q, "duplicate question: " + q
        seen_q.add(q)
        assert 1 <= len(tabs) <= 4, (q, tabs)
        assert len(set(tabs)) == len(tabs), (q, tabs)
        for full in tabs:
            db, name = full.split(".", 1)
            # every needed table exists in the generated DDL and is a hand-written core table
            assert name in by[db], "question needs unknown table %s: %s" % (full, q)
            assert by[db][name].kind in ("core", "lookup"), "question needs generated table %s" % full
            # never the literal identifier of a snake_case or camelCase table
            if "_" in name or is_camel(name):
                assert name.lower() not in q.lower(), "question quotes table name %s: %s" % (name, q)
        # the needed tables must join: FK edges inside a database plus the cross links
        all_edges = set(cross_edges)
        for db in ("erp", "crm"):
            for e in edges[db]:
                all_edges.add(frozenset("%s.%s" % (db, x) for x in e))
        assert connected(tabs, all_edges), "needed tables do not join: %s %s" % (q, tabs)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def stats(tables):
    return {
        "tables": len(tables),
        "columns": sum(len(t.colnames()) for t in tables),
        "fks": sum(1 for t in tables for c in t.cols if c.ref),
        "table_comments": sum(1 for t in tables if t.comment),
        "column_comments": sum(1 for t in tables for c in t.cols if c.comment),
        "camel_columns": sum(1 for t in tables for c in t.cols if is_camel(c.name)),
        "camel_tables": sum(1 for t in tables if is_camel(t.name)),
        "core": sum(1 for t in tables if t.kind in ("core", "lookup")),
        "sat": sum(1 for t in tables if t.kind == "sat"),
        "noise": sum(1 for t in tables if t.kind == "noise"),
    }


README = """# Table-retrieval corpus

Test data for measuring the recall of dbguru's table retrieval on large schemas
(BM25 over table names, column names, comments and sampled values, plus
foreign-key expansion). Everything here is produced by `generate.py`; do not
edit the generated files by hand.

Regenerate (Python 3.11 standard library only, fixed seed, byte-identical output):

    python3 tests/retrieval/generate.py tests/retrieval/

| file | what | counts |
| --- | --- | --- |
| `erp_pg.sql` | PostgreSQL 15 DDL, schema `public`, connection name `erp`: CREATE TABLE, then COMMENT ON, then ALTER TABLE ... ADD FOREIGN KEY. Loads with `psql -v ON_ERROR_STOP=1 -f erp_pg.sql`. | {erp[tables]} tables, {erp[columns]} columns, {erp[fks]} foreign keys, {erp[table_comments]} table comments, {erp[column_comments]} column comments, {erp[camel_columns]} camelCase columns (quoted) |
| `crm_mariadb.sql` | MariaDB 10.11 DDL for one database (no CREATE DATABASE / USE), connection name `crm`, InnoDB, inline COMMENTs and FOREIGN KEYs, `SET FOREIGN_KEY_CHECKS=0` at the top. Load with `mariadb crm < crm_mariadb.sql`. | {crm[tables]} tables ({crm[camel_tables]} camelCase), {crm[columns]} columns, {crm[fks]} foreign keys, {crm[table_comments]} table comments, {crm[column_comments]} column comments |
| `questions.tsv` | `question<TAB>needed tables`, no header; tables are `erp.<table>` / `crm.<table>`, comma-separated, 1-4 per question. | {nq} questions, {nx} of them need both databases |

How the schemas are built: about {erp[core]} (erp) and {crm[core]} (crm) hand-written
core tables carry the business meaning (domains such as hr, payroll, finance/GL,
AP/AR, sales, purchasing, inventory, warehouse, logistics, manufacturing, quality,
projects, assets, compliance, audit, billing, subscriptions on the ERP side; accounts,
leads, pipeline, activities, marketing, support, web shop on the CRM side). The rest
is generated around them: satellites that really belong to the schema
({erp[sat]} erp / {crm[sat]} crm: notes, attachments, status logs, custom fields,
relationship tables, ...) and look-alike noise copies ({erp[noise]} erp / {crm[noise]} crm:
`_hist`, `stg_`, `tmp_`, `bak_`, `_archive`, `_audit`, `rpt_`, integration buffers, ...).

The questions are written next to the core tables in `generate.py` and name them by
key; the generator asserts that every needed table exists in the DDL, is a core table
(never a generated copy) and that the needed tables of a question join through foreign
keys (or, across databases, through the documented key pairs such as
`crm.accounts.erp_customer_no` = `erp.sales_customer.customer_no`).
Questions are phrased the way a business user asks and rarely use the table names.
"""


def main(argv):
    outdir = argv[1] if len(argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(SEED)
    erp_domains, erp_tables = assemble(rng, ERP_DOMAINS_RAW, ERP_FK, "erp", ERP_TARGET_TABLES)
    crm_domains, crm_tables = assemble(rng, CRM_DOMAINS_RAW, CRM_FK, "crm", CRM_TARGET_TABLES)
    validate(erp_tables, "erp")
    validate(crm_tables, "crm")
    assert len(erp_tables) == ERP_TARGET_TABLES and len(crm_tables) == CRM_TARGET_TABLES
    rows = build_questions(rng, erp_domains, crm_domains)
    check_questions(rows, erp_tables, crm_tables)
    nx = sum(1 for _, tabs in rows if len({t.split(".")[0] for t in tabs}) == 2)
    assert len(rows) >= 120, len(rows)
    assert 0.13 <= nx / len(rows) <= 0.2, (nx, len(rows))

    with open(os.path.join(outdir, "erp_pg.sql"), "w", encoding="utf-8", newline="\n") as f:
        f.write(render_pg(erp_tables))
    with open(os.path.join(outdir, "crm_mariadb.sql"), "w", encoding="utf-8", newline="\n") as f:
        f.write(render_my(crm_tables))
    with open(os.path.join(outdir, "questions.tsv"), "w", encoding="utf-8", newline="\n") as f:
        for q, tabs in rows:
            f.write("%s\t%s\n" % (q, ",".join(tabs)))
    es, cs = stats(erp_tables), stats(crm_tables)
    with open(os.path.join(outdir, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(README.format(erp=es, crm=cs, nq=len(rows), nx=nx))
    print("erp: %s" % es)
    print("crm: %s" % cs)
    print("questions: %d (cross-database: %d)" % (len(rows), nx))


if __name__ == "__main__":
    main(sys.argv)
