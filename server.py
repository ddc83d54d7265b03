"""The dashboard as served: ``app.py`` in an ``st.App`` whose recordings are served only to the
accounts allowed to see them (cuekit.web). ``cuekit serve`` runs ``streamlit run server.py``."""

import streamlit as st

from cuekit import web

app = st.App("app.py", routes=web.routes(), middleware=web.middleware())
