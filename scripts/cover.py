#!/usr/bin/env python3
"""Fill git format-patch's cover letter with patches/cover.txt.

The first line of cover.txt is the subject, the rest the body."""
import sys

text = open(sys.argv[1]).read().split('\n', 1)
subject, body = text[0].strip(), text[1].strip('\n') if len(text) > 1 else ''
path = sys.argv[2]
cover = open(path).read()
cover = cover.replace('*** SUBJECT HERE ***', subject)
cover = cover.replace('*** BLURB HERE ***', body)
open(path, 'w').write(cover)
