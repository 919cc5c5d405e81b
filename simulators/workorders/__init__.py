"""Work-order (工单) simulator: a REST/JSON dispatch system with a real status lifecycle."""
