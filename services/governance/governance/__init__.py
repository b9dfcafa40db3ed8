"""governance (信息化治理): the city's review of IT project plans against what its platform already provides, and the
registry of every school's and district's application systems with their integration with the digital base."""
