"""Every problem code, declared once: its severity and what it means in the user's words
(the message of each problem adds the where and the value). The upload page, the problem
spreadsheet and the CLI show the same text; a test checks that every code the code base can
emit is declared here, with the severity it is emitted with."""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Code:
    severity: str
    title: str  # what kind of problem, in Chinese


_E, _W = ERROR, WARNING
_TABLE = """
bad_setting E 设置有误
file_unreadable E 无法读取的文件
file_too_large E 文件过大
empty_file E 空文件
encoding E 无法识别的编码
csv_not_utf8 E 不是 UTF-8 编码
csv_malformed E CSV 行格式有误
no_header E 缺少表头
header_too_long E 表头过长
too_many_columns E 列数过多
too_many_rows E 行数过多
too_many_cells E 工作表过大
cell_too_long E 单元格过长
old_excel E 旧版 Excel 文件
xlsx_broken E Excel 文件损坏
xlsx_too_large E Excel 解压后过大
sheet_missing E 找不到工作表
formula_no_value E 公式没有计算结果
missing_column E 缺少必需的列
unknown_column W 未知的列
unknown_indicator E 不是规则集中的指标
duplicate_column E 重复的列
personal_data E 含个人信息的列
empty_code E 单位代码为空
bad_period E 无法识别的月份
period_mismatch E 月份与所选月份不一致
period_missing E 缺少月份
duplicate_unit E 单位重复
not_a_number E 不是数字
excel_error E Excel 错误值
bad_comma E 含义不明的逗号
yes_no_in_number E 数值列中的是/否
out_of_range E 超出有效范围
negative_value E 负数
numerator_gt_denominator E 分子大于分母
unknown_unit E 不在名册(管辖范围)中的单位
not_reported W 未上报的单位
large_change W 与上月相比变化很大
no_registry E 尚未导入单位名册
same_file W 与之前的上传完全相同
unknown_unit_type E 名册中没有的单位类型
rules_overlap E 规则集适用范围重叠
no_data E 没有数据
empty_type E 单位类型为空
unknown_parent E 上级单位不存在
parent_cycle E 上级关系成环
parent_merged E 上级单位已被合并
unknown_merge_target E 并入单位不存在
no_root E 没有顶级单位
control_characters E 含控制字符
rules_encoding E 规则文件编码有误
rules_empty E 规则文件为空
rules_not_mapping E 规则文件结构有误
yaml_syntax E YAML 语法错误
yaml_tag E 不允许的 YAML 标签
yaml_anchor E 不允许的 YAML 锚点和别名
duplicate_key E 重复的键
missing_field E 缺少必填字段
unknown_field E 未知字段
unknown_method E 未知的评分方法
invalid_choice E 不允许的取值
invalid_value E 取值有误
not_text E 须为文本
bad_id E id 格式有误
wrong_shape E 结构有误
empty_list E 列表为空
not_bool E 须为 true 或 false
duplicate_id E 重复的 id
ambiguous_header E 一个表头对应多列
grades_order E 分数线顺序有误
grades_not_decreasing E 分数线未递减
red_min_score E 红色不设分数线
band_shape E 分段格式有误
bands_order E 分段顺序有误
band_score_range E 分段分值超出范围
linear_flat E 线性评分的两端相同
direction_contradiction E 方向与评分方法矛盾
range_shape E 有效范围格式有误
range_order E 有效范围上下限颠倒
rate_same_columns E 比率的分子分母是同一列
unknown_reference E 引用了不存在的列或维度
unknown_input E 引用了未声明的输入列
node_empty E 维度为空
node_has_both E 维度同时含指标和子维度
escalation_not_lower E 升级后的等级不更差
when_conditions E 跟进条件有误
unknown_placeholder E 未知的占位符
bad_template E 处理意见模板有误
source_unit E 来源未写明所属单位的列
source_column_type E 来源列的类型不适用
unknown_source_column E 引用了来源未声明的列
derive_and_rate E 同时写了 rate 和 derive
derive_shape E 计算规则格式有误
filter_shape E 筛选条件格式有误
source_mismatch E 同一来源在两个规则集中定义不同
unknown_source E 规则集中没有该来源
derived_column E 由事件数据计算的列
empty_event_id E 事件编号为空
duplicate_event E 事件编号重复
bad_date E 无法识别的日期
bad_flag E 无法识别的是/否
event_outside_month E 事件不在所选月份
events_many_months E 文件含多个月份的事件
unknown_unit_name E 名册中没有的单位名称
ambiguous_unit_name E 名称对应多个单位
no_units W 规则集没有适用的单位
scope_denied E 超出权限范围
out_of_scope E 不在管辖范围内
forbidden E 无权操作
month_closed E 该月份不可填报
unknown_task E 督办事项不存在
bad_transition E 不允许的状态变更
comment_required E 须写明原因
changed_meanwhile E 已被他人修改
own_report E 不能验收自己报送的事项
owner_required E 须指定责任方
evidence_type E 不接受的材料类型
evidence_too_large E 材料文件过大
evidence_empty E 材料文件为空
unknown_file E 材料不存在
note_required E 须写明修改说明
bad_credentials E 用户名或密码错误
locked E 账户已锁定
account_disabled E 账户已停用
sso_unknown E 单点登录账户未开通
bad_user_name E 用户名格式有误
bad_role E 角色不存在
scope_required E 须指定管辖范围
unknown_scope E 管辖范围中的单位不存在
user_exists E 用户名已存在
weak_password E 密码过弱
unknown_user E 账户不存在
sign_in_throttled E 登录尝试过于频繁
session_ended E 会话已结束
bad_email E 邮箱地址格式不对
reporter_scope E 填报员只能管辖村/社区
duplicate_user E 表中重复的用户名
form_state E 填报状态已变
comment_required E 缺少退回意见
must_change_password E 须先修改初始密码
backup_not_sqlite E 不是 SQLite 数据库
backup_exists E 备份文件已存在
backup_broken E 备份文件损坏
"""
CODES: dict[str, Code] = {
    line.split(" ", 2)[0]: Code(_E if line.split(" ", 2)[1] == "E" else _W, line.split(" ", 2)[2])
    for line in _TABLE.strip().splitlines()
}


def title(code: str) -> str:
    """The kind of problem in Chinese (the code itself when it is not declared)."""
    return CODES[code].title if code in CODES else code
