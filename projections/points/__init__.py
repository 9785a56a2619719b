"""The points ledger: entries written when demands close, reopen or are commended; balances, rankings."""
