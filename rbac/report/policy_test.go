package report_test

// smallPolicy is a compact valid policy, the one the rbac tests break one
// way at a time.
const smallPolicy = `version: 1
name: Test policy
local:
  shcr: QAA
  name: Alpha ShCR
  members:
    - ods: RA1
      name: Alpha Trust
remote_shcrs:
  - ods: QBB
    name: Beta ShCR
    members:
      - ods: RB1
        name: Beta Trust
  - ods: QCC
    name: Gamma ShCR
categories:
  - id: demographics
  - id: care-plans
    record_types:
      - code: "736366004"
        display: Advance care plan
  - id: sensitive
    record_types:
      - code: "16521000000101"
        display: Lloyd George record folder
    requires_activities: [B1611]
access_levels:
  - id: admin
    categories: [demographics]
  - id: clinical
    categories: [demographics, care-plans, sensitive]
roles:
  - id: clinicians
    job_roles: [R8000]
    access_levels: [clinical]
  - id: admin
    job_roles: [R8008]
    access_levels: [admin]
relationships:
  - kind: registered
    purposes: [TREAT]
  - kind: emergency
    purposes: [BTG]
    requires_reason: true
    obligations:
      alert_privacy_officer: B0015
agreements:
  - id: ISA-1
    title: Alpha and Beta
    parties: [QAA, QBB]
    purposes: [TREAT, BTG]
    categories: [demographics, care-plans]
    valid_from: 2026-01-01
    valid_to: 2026-12-31
record_of_processing:
  controller:
    name: Alpha ICB
`
