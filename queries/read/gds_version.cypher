// The Graph Data Science library's version (null when it is absent: ArcadeDB answers
// gds.version() with its own version in a column named value, not gdsVersion).
CALL gds.version() YIELD gdsVersion
RETURN gdsVersion
