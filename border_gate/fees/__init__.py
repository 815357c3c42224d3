"""Gate fees: the infrastructure fee charged at gate-in, paid through a provider, receipted."""
