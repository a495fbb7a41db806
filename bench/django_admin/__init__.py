"""Django admin on the desk benchmark's data: the changelist and change form clerks would use instead."""
