// A GDS in-memory graph of the person co-settlement projection: integer node ids (0..n-1),
// undirected weighted edges ($edges: [src, dst, weight] triples).
UNWIND $edges AS e
WITH gds.graph.project($graph, e[0], e[1], {relationshipProperties: {weight: e[2]}},
                       {undirectedRelationshipTypes: ['*']}) AS g
RETURN g.nodeCount AS nodes, g.relationshipCount AS relationships
