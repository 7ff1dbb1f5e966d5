"""Lab 4, Text: the NLP pipeline stage by stage on your own sentences, and a text CNN trained
live."""
