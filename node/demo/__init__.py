"""`rdh demo`: a living ecosystem of three community nodes on 127.0.0.1, seeded through the
real HTTP API (DESIGN §7; issue 7).

- `node.demo.cluster`: make the nodes (`rdh init` in-process) and run each as its own
  `rdh serve` process; stop them.
- `node.demo.seed`: what the communities and their workers do, through the nodes' APIs,
  with the workers' keys held by the seeder (as their browsers would hold them).
"""
