"""Names and vocabularies the tenant generator draws from (fictional people and the
companies of Microsoft's documentation)."""

from __future__ import annotations

FIRST_NAMES = (
    "Adele", "Alex", "Allan", "Amara", "Ana", "Andre", "Anika", "Ava", "Ben", "Bianca",
    "Carlos", "Chen", "Chloe", "Dan", "Daria", "Diego", "Elena", "Emil", "Emma", "Erik",
    "Fatima", "Felix", "Grace", "Hana", "Hugo", "Ines", "Isaac", "Ivy", "Jack", "Jana", "Jonas",
    "Julia", "Kai", "Karin", "Lars", "Laura", "Lea", "Lee", "Leo", "Lidia", "Lucas", "Lynne",
    "Maja", "Malik", "Marta", "Mateo", "Megan", "Mia", "Miguel", "Nadia", "Nestor", "Nina",
    "Noah", "Olga", "Omar", "Patti", "Paul", "Petra", "Priya", "Raj", "Rosa", "Sami", "Sara",
    "Sofia", "Tarek", "Theo", "Tina", "Tom", "Uma", "Vera", "Victor", "Wei", "Yara", "Yusuf",
    "Zoe"
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Ahmed", "Alvarez", "Bauer", "Becker", "Brown", "Castro", "Chen", "Cortez",
    "Costa", "Dennis", "Diaz", "Dubois", "Eriksen", "Fernandez", "Fischer", "Garcia", "Gomez",
    "Hansen", "Harris", "Holloway", "Ito", "Jensen", "Johnson", "Kim", "Klein", "Kowalski",
    "Larsen", "Lee", "Lopez", "Martin", "Meyer", "Miller", "Moreau", "Muller", "Nakamura",
    "Nguyen", "Novak", "Olsen", "Patel", "Perez", "Petrov", "Quinn", "Rossi", "Santos",
    "Schmidt", "Sicilian", "Silva", "Smith", "Suzuki", "Tanaka", "Taylor", "Vance", "Wagner",
    "Walker", "Weber", "White", "Wilson", "Wong", "Young", "Zhang"
)  # fmt: skip
DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "Sales": (
        "Account Executive", "Sales Manager", "Sales Representative", "Inside Sales Specialist",
    ),
    "Marketing": ("Product Marketing Manager", "Content Strategist", "Marketing Analyst"),
    "Engineering": (
        "Software Engineer", "Senior Software Engineer", "Engineering Manager",
        "Site Reliability Engineer",
    ),
    "Finance": ("Financial Analyst", "Controller", "Accountant", "Payroll Specialist"),
    "Human Resources": ("HR Business Partner", "Recruiter", "HR Specialist"),
    "IT": (
        "Systems Administrator", "Identity Engineer", "Service Desk Analyst", "Security Engineer",
    ),
    "Legal": ("Corporate Counsel", "Paralegal", "Compliance Officer"),
    "Operations": ("Operations Manager", "Logistics Coordinator", "Facilities Specialist"),
}  # fmt: skip
OFFICES = (
    ("Redmond", "US", "18/2111"), ("Seattle", "US", "12/1101"), ("London", "GB", "4/210"),
    ("Amsterdam", "NL", "2/044"), ("Munich", "DE", "7/312"), ("Toronto", "CA", "3/115"),
)  # fmt: skip
APP_NOUNS = (
    "Payroll", "Expenses", "Timesheets", "CRM", "Helpdesk", "Inventory", "Onboarding", "Wiki",
    "Reporting", "Billing", "Procurement", "Learning", "Analytics", "Scheduler", "Portal",
)  # fmt: skip
VENDORS = ("Fabrikam", "Northwind", "Tailspin", "Woodgrove", "Litware", "Adatum", "Proseware")
CA_NAMES = (
    "Require MFA for administrators", "Block legacy authentication", "Require compliant device",
    "Require MFA outside trusted locations", "Block access from untrusted countries",
    "Require MFA for guests", "Sign-in frequency for unmanaged devices",
)  # fmt: skip
COUNTRIES = ("US", "GB", "CA", "DE", "NL", "FR", "JP", "AU", "BR", "IN", "RU", "CN", "KP", "IR")
