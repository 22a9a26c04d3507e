"""Azure Activity Log: a resultType that tells no outcome is status Other (round 31).

Azure Monitor's Activity Log schema: the status (``resultType`` as diagnostic settings export it,
``status.value`` in the REST API) "Typical values include Started, In Progress, Succeeded, Failed,
Active, and Resolved". Every word but the failures read as Success: the Start of a service
principal's listKeys, a Resource Health event ``Updated``, an ``Active`` service health incident.
They are status Other (99) with the word as the status (OCSF: "the event status is not mapped,
see the status attribute"); Succeeded/Success and Failed/Failure keep Success and Failure.

Samples (tests/cases/holdout): Elastic's activitylogs pipeline tests (the listKeys Start, the
Resource Health edge case) and Microsoft's REST samples of the schema page.
"""

from __future__ import annotations

from tests.unit.test_formats_holdout import _auto, _rows


def test_steps_and_states_are_status_other() -> None:
    (start,) = _rows(_auto("elastic-azure-activitylogs-sp.log")[1])
    (updated,) = _rows(_auto("elastic-azure-activitylogs-resourcehealth.log")[1])
    nsg, health = _rows(_auto("azure-docs-activity-log-rest.json")[1])
    got = [(r["status_id"], r["status"], r["status_detail"]) for r in (start, updated, health, nsg)]
    assert got == [(99, "Start", "Start"), (99, "Updated", "Updated"), (99, "Active", "Active"),
                   (1, "Success", "Succeeded")]
