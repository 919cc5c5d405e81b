"""The work-order (工单) system: repair tickets and their lifecycle, over its REST/JSON API."""
