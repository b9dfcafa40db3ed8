"""The nominations service: policies, rounds, the recommendation form (推荐表), eligibility, the summary table."""
