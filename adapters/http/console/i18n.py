"""The console's words, in one catalogue: Chinese by default, English with `?lang=en` (kept in a cookie).

A key missing from a language falls back to English, then to the key itself, so a new word shows
up (in English) rather than breaking a page.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

LANGUAGES = ("zh", "en")
DEFAULT = "zh"

_WORDS: dict[str, tuple[str, str]] = {
    # (Chinese, English)
    "app": ("微心愿·微诉求 闭环管理", "Micro-demands: the closed loop"),
    "board": ("超期看板", "Overdue board"),
    "demands": ("工单", "Tickets"),
    "rates": ("办结率", "Rates"),
    "ranking": ("积分排行", "Ranking"),
    "my_points": ("我的积分", "My points"),
    "points": ("积分", "Points"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "token": ("令牌", "Token"),
    "token_help": (
        "请输入管理员为您签发的令牌（md_ 开头）。",
        "Paste the token you were issued (it starts md_).",
    ),
    "signed_in_as": ("当前身份", "Signed in as"),
    "bad_token": ("令牌无效或已被吊销。", "That token is unknown or was revoked."),
    "overdue": ("已超期", "Overdue"),
    "due_today": ("今日到期", "Due today"),
    "none_overdue": ("没有超期的工单。", "Nothing is overdue."),
    "none_due": ("今天没有到期的工单。", "Nothing falls due today."),
    "refreshed": ("更新于", "Updated"),
    "refreshes": ("每 {n} 秒自动刷新", "refreshes every {n} s"),
    "demand": ("工单", "Demand"),
    "title": ("标题", "Title"),
    "state": ("状态", "State"),
    "priority": ("紧急程度", "Priority"),
    "level": ("层级", "Rung"),
    "responsible": ("责任单位", "Responsible"),
    "due": ("截止", "Due"),
    "promised": ("承诺时限", "Promised"),
    "late_by": ("超期", "Late by"),
    "left": ("剩余", "Left"),
    "escalations": ("升级次数", "Escalations"),
    "community": ("社区", "Community"),
    "held_by": ("认领人", "Held by"),
    "collected": ("登记时间", "Collected"),
    "search": ("搜索", "Search"),
    "search_hint": ("工单号或标题", "demand id or words of the title"),
    "searched": ("已在最近 {n} 条中搜索", "searched the {n} most recent"),
    "filter": ("筛选", "Filter"),
    "all": ("全部", "all"),
    "open_only": ("仅未办结", "open only"),
    "mine": ("我认领的", "mine"),
    "scope": ("范围", "Place"),
    "scope_hint": ("如 community:Xinhua", "e.g. community:Xinhua"),
    "period": ("期间", "Period"),
    "period_hint": ("如 2026、2026-Q3、2026-10", "e.g. 2026, 2026-Q3, 2026-10"),
    "per": ("按", "Per"),
    "by": ("分组", "By"),
    "previous": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "no_rows": ("没有符合条件的工单。", "No demand matches."),
    "residents_list": ("居民请输入工单号查看自己的诉求。", "Residents: enter a demand's id to open it."),
    "standing": ("当前情况", "Where it stands"),
    "clock": ("时限", "Clock"),
    "waiting_for": ("等待", "Waiting for"),
    "warn_at": ("预警时间", "Warn at"),
    "next_alarm": ("下一步自动处理", "Next by itself"),
    "rating": ("评价", "Rating"),
    "outcome": ("结果", "Outcome"),
    "timeline": ("处理记录", "Timeline"),
    "when": ("时间", "When"),
    "event": ("事件", "Event"),
    "who": ("操作人", "Who"),
    "note": ("说明", "Note"),
    "actions": ("可执行的操作", "What you may do"),
    "no_actions": (
        "您的角色在此状态下不能操作此工单。",
        "Your role can do nothing to this demand in its state.",
    ),
    "reason": ("原因", "Reason"),
    "hours": ("服务时长（小时）", "Hours"),
    "member": ("党员", "Member"),
    "unit": ("单位", "Unit"),
    "to": ("派给", "To"),
    "to_unit": ("转办单位", "To unit"),
    "extend_by": ("延长（如 12h、1d）", "Extend by (12h, 1d)"),
    "into": ("合并到工单", "Into demand"),
    "resolved": ("已解决", "Resolved"),
    "unresolved": ("未解决", "Not resolved"),
    "comment": ("评语", "Comment"),
    "text": ("补充内容", "Text"),
    "done": ("已完成：", "Done: "),
    "refused": ("未能执行：", "Not done: "),
    "completion_rate": ("办结率", "Completion rate"),
    "on_time_rate": ("按时办结率", "On-time rate"),
    "claim_rate": ("认领率", "Claim rate"),
    "satisfaction_rate": ("满意率", "Satisfaction rate"),
    "closed": ("已办结", "Closed"),
    "open_overdue": ("未办结且超期", "Open and overdue"),
    "rates_over_time": (
        "办结率与按时办结率（按登记时间）",
        "Completion and on-time rates, by collection date",
    ),
    "rates_by_community": ("各社区办结率（按登记时间）", "Completion rate by community, by collection date"),
    "figures_by": ("分项", "Figures by"),
    "group": ("分组", "Group"),
    "show": ("查看", "Show"),
    "rank": ("名次", "Rank"),
    "account": ("名称", "Name"),
    "balance": ("余额", "Balance"),
    "earned": ("已获得", "Earned"),
    "redeemed": ("已兑换", "Redeemed"),
    "owed": ("待抵扣", "Owed"),
    "recent_entries": ("最近积分记录", "Recent entries"),
    "redeem": ("兑换", "Redeem"),
    "redeem_for": ("兑换内容", "For"),
    "time_bank": ("时间银行", "Time bank"),
    "local_time": ("时间均为当地时间（{zone}）", "Times are local ({zone})"),
    "error": ("出错了", "Something went wrong"),
    "back": ("返回", "Back"),
    "not_found": ("未找到", "Not found"),
    "forbidden": ("无权访问", "Not allowed"),
    "language": ("English", "中文"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "member_of": ("所属单位", "Unit"),
    "open_demand": ("打开", "Open"),
    # what a demand's steps are called on a button
    "step.dispatch": ("派单", "Dispatch"),
    "step.claim": ("认领", "Claim"),
    "step.release": ("退回", "Release"),
    "step.handle": ("办理完成", "Handle"),
    "step.follow_up": ("回访", "Follow up"),
    "step.evaluate": ("评价", "Evaluate"),
    "step.withdraw": ("撤回", "Withdraw"),
    "step.escalate": ("升级", "Escalate"),
    "step.transfer": ("转办", "Transfer"),
    "step.reassign": ("改派", "Reassign"),
    "step.extend": ("延期", "Extend"),
    "step.merge": ("合并", "Merge"),
    "step.commend": ("表扬", "Commend"),
    "step.supplement": ("补充", "Supplement"),
}

_ENUMS: dict[str, tuple[str, str]] = {
    "state.new": ("待登记", "new"),
    "state.collected": ("已登记", "collected"),
    "state.dispatched": ("已派单", "dispatched"),
    "state.claimed": ("已认领", "claimed"),
    "state.handled": ("已办理", "handled"),
    "state.followed_up": ("已回访", "followed up"),
    "state.evaluated": ("已评价", "evaluated"),
    "state.closed": ("已办结", "closed"),
    "state.withdrawn": ("已撤回", "withdrawn"),
    "state.merged": ("已合并", "merged"),
    "state.rejected": ("未受理", "rejected"),
    "priority.general": ("一般", "general"),
    "priority.important": ("重要", "important"),
    "priority.major": ("重大", "major"),
    "level.community": ("社区", "community"),
    "level.street": ("街道", "street"),
    "level.district": ("区", "district"),
    "level.city": ("市", "city"),
    "stage.claim": ("认领", "a claim"),
    "stage.handle": ("办理", "handling"),
    "stage.follow_up": ("回访", "a follow-up"),
    "stage.evaluate": ("评价", "an evaluation"),
    "rating.satisfied": ("满意", "satisfied"),
    "rating.basically_satisfied": ("基本满意", "basically satisfied"),
    "rating.unsatisfied": ("不满意", "unsatisfied"),
    "outcome.satisfied": ("满意", "satisfied"),
    "outcome.basically_satisfied": ("基本满意", "basically satisfied"),
    "outcome.unsatisfied": ("不满意", "unsatisfied"),
    "outcome.not_rated": ("未评价", "not rated"),
    "outcome.withdrawn": ("已撤回", "withdrawn"),
    "outcome.merged": ("已合并", "merged"),
    "role.platform": ("平台", "platform"),
    "role.operator": ("社区工作者", "operator"),
    "role.member": ("党员", "member"),
    "role.analyst": ("分析员", "analyst"),
    "role.resident": ("居民", "resident"),
    "role.administrator": ("管理员", "administrator"),
    "step.mark_overdue": ("标记超期并升级", "mark overdue and escalate"),
    "step.warn": ("预警", "warn"),
    "step.close": ("未评价自动办结", "close unrated"),
    "per.day": ("日", "day"),
    "per.week": ("周", "week"),
    "per.month": ("月", "month"),
    "per.year": ("年", "year"),
    "by.community": ("社区", "community"),
    "by.grid": ("网格", "grid"),
    "by.street": ("街道", "street"),
    "by.district": ("区", "district"),
    "by.category": ("类别", "category"),
    "by.channel": ("渠道", "channel"),
    "by.priority": ("紧急程度", "priority"),
    "by.level": ("层级", "rung"),
    "by.member": ("党员", "member"),
    "by.unit": ("单位", "unit"),
    "event.Collected": ("登记", "Collected"),
    "event.Amended": ("修改", "Amended"),
    "event.Supplemented": ("补充", "Supplemented"),
    "event.Dispatched": ("派单", "Dispatched"),
    "event.Claimed": ("认领", "Claimed"),
    "event.Released": ("退回", "Released"),
    "event.Handled": ("办理完成", "Handled"),
    "event.FollowedUp": ("回访", "FollowedUp"),
    "event.Evaluated": ("评价", "Evaluated"),
    "event.Closed": ("办结", "Closed"),
    "event.Reopened": ("重新办理", "Reopened"),
    "event.Withdrawn": ("撤回", "Withdrawn"),
    "event.Merged": ("合并", "Merged"),
    "event.DuplicateAbsorbed": ("并入重复诉求", "DuplicateAbsorbed"),
    "event.Escalated": ("升级", "Escalated"),
    "event.Transferred": ("转办", "Transferred"),
    "event.Reassigned": ("改派", "Reassigned"),
    "event.Extended": ("延期", "Extended"),
    "event.Warned": ("预警", "Warned"),
    "event.Overdue": ("超期", "Overdue"),
    "event.Commended": ("表扬", "Commended"),
}

CATALOGUE = {**_WORDS, **_ENUMS}


def language(asked: str | None, cookie: str | None) -> str:
    """The page's language: the one asked for (`?lang=`), else the cookie's, else Chinese."""
    for candidate in (asked, cookie):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT


def translator(lang: str) -> Callable[..., str]:
    """`t("key")` or `t("state", State.CLOSED)`, and `t("refreshes", n=30)`, in `lang`."""
    column = LANGUAGES.index(lang)

    def t(key: str, value: object = None, **fields: object) -> str:
        if value is not None:
            word = value.value if isinstance(value, StrEnum) else str(value)
            key = f"{key}.{word}"
            fallback = word.replace("_", " ")
        else:
            fallback = key
        found = CATALOGUE.get(key)
        text = found[column] if found else fallback
        return text.format(**fields) if fields else text

    return t
