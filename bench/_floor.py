"""The floor both benchmarks compare with: the long table's rows joined in plain SQL."""

FLOOR_FROM = """
FROM patients_patient p
JOIN patients_site s ON s.id = p.site_id
LEFT JOIN patients_allocation a ON a.patient_id = p.id
LEFT JOIN patients_medicalhistory h ON h.patient_id = p.id
JOIN assessments_visit v ON v.patient_id = p.id
LEFT JOIN assessments_spasmassessment sp ON sp.visit_id = v.id
LEFT JOIN assessments_labpanel l ON l.visit_id = v.id
LEFT JOIN assessments_rand36 r ON r.visit_id = v.id
LEFT JOIN assessments_hads hd ON hd.visit_id = v.id
LEFT JOIN assessments_hdrs17 hr ON hr.visit_id = v.id
"""
