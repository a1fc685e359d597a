"""A message kind that takes files, loaded only by the nodes of the two-node file test
(``DJANGO_SETTINGS_MODULE=xietong.exchange.tests.filenode.settings``): no domain app declares one
yet. Its handler writes what it received to ``VAR_DIR/files-received.json``, for the test to read."""
