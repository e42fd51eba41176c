MERGE (d:DetectRun {run_id: $row.run_id})
SET d = $row
