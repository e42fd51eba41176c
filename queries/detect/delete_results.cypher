// The previous detection's rings, chains and rule hits, with their relationships.
MATCH (n)
WHERE n:Ring OR n:Chain OR n:RuleHit
DETACH DELETE n
