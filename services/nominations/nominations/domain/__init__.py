"""The nominations domain: policies as data, rounds, the recommendation form and its eligibility rules."""
