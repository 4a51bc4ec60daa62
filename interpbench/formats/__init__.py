"""Files other tools read and write: scores and circuits in interpbench's own JSON
(the ``Scores`` schema) and in the EAP-IG / MIB graph JSON (``mib``), read into and
written from ``Scores`` on one ``ComputationalGraph``."""
