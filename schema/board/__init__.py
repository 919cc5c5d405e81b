"""The board slice: the supervisor's view of the queue, the agents and the back offices."""
