"""Pure domain code: vocabulary, time, configuration, roles, masking and de-identification, text search,
sampling and scorecard maths, the message catalogue. Imports nothing from the product's other packages,
nor streamlit or sqlalchemy."""
