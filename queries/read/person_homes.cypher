MATCH (p:Person)
WHERE p.psn_no IN $codes
RETURN p.psn_no AS code, p.insu_admdvs AS admdvs
