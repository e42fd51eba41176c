"""Graph analytics: tables in, graphs, communities, rule hits and scored rings out."""
