"""A small rule set with a source and every kind of derived column, for the event tests."""

from __future__ import annotations

from assessment.rules.loader import parse_rules

RULES = """
id: events
name: 事件测试
version: "1"
applies_to: [社区]
grades:
  green: {label: 好, min_score: 90}
  blue: {label: 较好, min_score: 80}
  yellow: {label: 合格, min_score: 70}
  orange: {label: 较差, min_score: 60}
  red: {label: 差}
sources:
  - id: tickets
    name: 热线工单
    unit: {code: unit}
    event_id: ticket
    month_by: received
    columns:
      - {id: ticket, name: 工单编号}
      - {id: unit, name: 社区代码}
      - {id: received, name: 受理时间, type: date}
      - {id: closed, name: 办结时间, type: date}
      - {id: kind, name: 类别}
      - {id: urgent, name: 是否紧急, type: flag}
      - {id: cost, name: 费用, type: number}
      - {id: rating, name: 评价}
inputs:
  - id: n_all
    name: 工单数
    derive: {source: tickets, aggregate: count}
  - id: n_zero
    name: 工单数(无工单记0)
    derive: {source: tickets, aggregate: count, empty: 0}
  - id: n_water
    name: 供水类工单
    derive: {source: tickets, aggregate: count, where: [{column: kind, in: [供水, 停水]}]}
  - id: n_week
    name: 七日办结
    derive:
      source: tickets
      aggregate: count
      where: [{within: {from: received, to: closed, days: 7}}]
  - id: n_day
    name: 24小时内办结
    derive:
      source: tickets
      aggregate: count
      where: [{within: {from: received, to: closed, hours: 24}}]
  - id: n_open
    name: 未办结
    derive: {source: tickets, aggregate: count, where: [{column: closed, filled: false}]}
  - id: n_urgent_dear
    name: 紧急且费用不少于100
    derive:
      source: tickets
      aggregate: count
      where: [{column: urgent, in: [是]}, {column: cost, op: ">=", value: 100}]
  - id: cost_mean
    name: 平均费用
    derive: {source: tickets, aggregate: mean, value: cost}
  - id: days_median
    name: 办结天数中位数
    derive: {source: tickets, aggregate: median, value: {from: received, to: closed}}
  - id: hours_max
    name: 最长办结小时
    derive:
      source: tickets
      aggregate: max
      value: {from: received, to: closed, unit: hours}
      where: [{column: kind, in: [供水]}]
dimensions:
  - id: service
    name: 服务
    weight: 1
    indicators:
      - id: satisfied
        name: 满意率
        unit: "%"
        weight: 1
        derive:
          source: tickets
          aggregate: share
          where: [{column: rating, in: [满意, 基本满意]}]
          among: [{column: rating, in: [满意, 基本满意, 不满意]}]
        scoring: {method: linear, worst: 50, best: 100}
      - id: meetings
        name: 会议次数
        weight: 1
        scoring: {method: linear, worst: 0, best: 4}
"""


def event_rules():
    return parse_rules(RULES).rules
