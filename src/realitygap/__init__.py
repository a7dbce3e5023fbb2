"""realitygap: is this data source good enough to train perception models for the physical world?"""

__version__ = "0.1.0"
