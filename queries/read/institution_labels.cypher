MATCH (i:Institution)
WHERE i.fixmedins_code IN $codes
RETURN i.fixmedins_code AS code, i.fixmedins_name AS name, i.admdvs AS admdvs, i.lon AS lon,
       i.lat AS lat
