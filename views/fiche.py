import streamlit as st

st.title("Fiche territoire")
