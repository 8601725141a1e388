"""Pure judgements: the state of inventory objects as a function of records, options and time."""
