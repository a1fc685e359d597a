"""Membership: join applications, outreach events, members, transfers, mutual-aid service cards and
their verification at partner service points (GLOSSARY.md, "People and membership")."""
