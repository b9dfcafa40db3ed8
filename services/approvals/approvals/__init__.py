"""The approvals service: review chains, the reviewer inbox, appointments (聘任), evaluations and rectification."""
