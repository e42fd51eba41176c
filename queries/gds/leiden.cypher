// GDS Leiden (modularity, resolution gamma), seeded and single-threaded so a seed gives one
// answer.
CALL gds.leiden.stream($graph, {relationshipWeightProperty: 'weight', gamma: $resolution,
                                randomSeed: $seed, concurrency: 1})
YIELD nodeId, communityId
RETURN nodeId, communityId
