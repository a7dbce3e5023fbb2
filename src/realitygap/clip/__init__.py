"""Measure any clip: real captures and generated videos without a twin behind them (`realitygap measure-clip`)."""
