"""Text in: loading files into documents, and splitting documents into chunks."""
