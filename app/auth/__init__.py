"""Who is calling: token verification (`tokens`) and the signing secret (`secret`)."""
