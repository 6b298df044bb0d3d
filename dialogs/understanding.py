"""Read one free-text message from a homeowner and pull out the facts the dialog needs.

``understand(text, today) -> Reading`` is pure: no I/O, no global state that
changes between calls, never raises, and bounded in time (the input is cut to
``MAX_CHARS`` before any regex runs, and only short windows around date cues
are handed to ja-timex, whose patterns slow down badly on long inputs).

How a message is read
---------------------
1. ``_normalize``: NFKC (全角/半角, ①②), drop spaces, unify line breaks, fold
   hiragana spellings and common typos of the key words onto one form
   (``VARIANTS``), unify the month counter (ヶ月/か月/カ月 → ヶ月).
2. One function per field (``read_arrears``, ``read_co_owned`` ...), each driven
   by the small keyword tables just below.
3. Dates go through ja-timex (``read_dates``); only year-less and relative
   results are resolved here.

The tables are the place to extend when a new phrasing shows up in the logs;
the corpus in ``tests/data/understanding_corpus.yaml`` says what each should do.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Literal

from dialogs import care
from dialogs.faq_classifier import CANDIDATES, FaqClassifier, load_examples

logger = logging.getLogger(__name__)

Divorce = Literal["none", "in_progress", "done"]

#: Longest text that is read at all; people do not type more than this.
MAX_CHARS = 3000
#: At most this many characters around date cues are handed to ja-timex.
MAX_DATE_CHARS = 240
#: Arrears above this are not believed (e.g. 「住んで10年」 slipping through).
MAX_ARREARS_MONTHS = 60

# ---------------------------------------------------------------------------
# Normalisation tables
# ---------------------------------------------------------------------------

#: (pattern, canonical) applied in order to the lower-cased, NFKC text.
VARIANTS: list[tuple[str, str]] = [
    # hiragana spellings
    (r"たいのう", "滞納"),
    (r"えんたい", "延滞"),
    (r"とくそく", "督促"),
    (r"さいこくしょ", "催告書"),
    (r"きょうばい|けいばい|競賣|競買", "競売"),
    (r"だいいべんさい", "代位弁済"),
    (r"げんきょうちょうさ", "現況調査"),
    (r"しっこうかん", "執行官"),
    (r"きかんにゅうさつ", "期間入札"),
    (r"にゅうさつ", "入札"),
    (r"かいさつ", "開札"),
    (r"りこん", "離婚"),
    (r"ちょうてい", "調停"),
    (r"べっきょ", "別居"),
    (r"ぜいむしょ", "税務署"),
    (r"しやくしょ", "市役所"),
    (r"やくしょ", "役所"),
    (r"こていしさんぜい", "固定資産税"),
    (r"れんたいほしょうにん", "連帯保証人"),
    (r"ほしょうにん", "保証人"),
    (r"ほしょうがいしゃ", "保証会社"),
    (r"めいぎ", "名義"),
    (r"きょうゆう", "共有"),
    (r"ひっこし|引っ越し|引越し|引っ越|ひっこ", "引越"),
    (r"にんいばいきゃく|任意売買|任売", "任意売却"),
    (r"ざんさい", "残債"),
    (r"しんようじょうほう", "信用情報"),
    (r"ぶらっくりすと|ブラックリス(?!ト)", "ブラックリスト"),
    (r"ぶらっく", "ブラック"),
    (r"りーすばっく|リースバッグ|リースパック", "リースバック"),
    (r"さしおさえ|差し押さえ|差押さえ|差し押え|差押え", "差押"),
    (r"きげんのりえき", "期限の利益"),
    (r"そうしつ", "喪失"),
    (r"(?<=[0-9〇一二三四五六七八九十])(?:かげつ|カゲツ)", "ヶ月"),
    (r"いっかつ", "一括"),
    (r"もとづま", "元妻"),
    (r"もとおっと", "元夫"),
    (r"たんとうしゃ", "担当者"),
    (r"でんわ", "電話"),
    # Kansai / casual negation onto the standard form (「おらん」「してへん」「あらへん」)
    (r"(?:おら|居ら)(?:ん|へん|ひん)(?![だでの])", "いない"),
    (r"(?:して|し)(?:へん|ーへん|ひん)|せ(?:え|ー)?へん", "していない"),
    (r"あらへん|ありまへん", "ない"),
    # typos seen in real messages
    (r"督促上|督足状|特促状|得促状|徳促状", "督促状"),
    (r"最告書|再告書|催告状", "催告書"),
    (r"共同名義", "共有名義"),
    (r"連帯(補償|保障|保正|保症)人", "連帯保証人"),
    (r"(補償|保障)人", "保証人"),
    (r"代位(弁財|弁剤|返済|弁才|べんさい)", "代位弁済"),
    (r"現状調査|現況調沙|原況調査", "現況調査"),
    (r"執行(管|感)", "執行官"),
    (r"期限の利益(を|の)?損失", "期限の利益喪失"),
    (r"期限利益", "期限の利益"),
    (r"売却基準価格", "売却基準価額"),
    (r"(帯|滞|退)(能|脳)|帯納", "滞納"),
    (r"繰り上げ償還|繰上げ償還", "繰上償還"),
]

#: 「保証人？いないですね」「滞納？まだしてないよ」: the subject echoed as a question, then the answer.
ECHO_QUESTION = re.compile(r"^(保証人|連帯保証人|滞納|延滞|離婚|名義|共有)(?:ですか|ですか\?|って)?\?+(?=[^\n]{1,20}$)")
#: Month counters written every way people write them, after a number.
MONTH_COUNTER = re.compile(r"(?<=[0-9〇一二三四五六七八九十半])(?:[ヶケカかヵ箇個]|ケ)月")

CLAUSE_BREAK = re.compile(r"[。!?\n、,「」『』\"]|けど|けれど|ので|のに|しかし|でも、")
SENTENCE = re.compile(r"[^。!?\n]+[。!?\n]*")
#: For arrears a line break is not the end of a thought (「３ヶ月\n滞納してて」).
SENTENCE_KEEP_LINES = re.compile(r"[^。!?]+[。!?]*")
#: Work caps that keep adversarial input (thousands of hits) linear.
MAX_HITS = 60
MAX_SENTENCES = 80

# ---------------------------------------------------------------------------
# Arrears
# ---------------------------------------------------------------------------

_NUM = r"(?:\d{1,3}(?:\.\d)?|[〇一二三四五六七八九十]{1,3})"
DURATION = re.compile(
    rf"(?<![\d.])(?:(?P<y>{_NUM})年(?P<yh>半)?(?:(?P<ym>{_NUM})ヶ月)?"
    rf"|(?P<half>半年)"
    rf"|(?P<m>{_NUM})ヶ月(?P<mh>半)?"
    rf"|(?P<k>{_NUM})回(?P<kb>分)?)"
)
#: A duration followed by these is about the future or a plan, not arrears.
DURATION_NOT_ARREARS_AFTER = re.compile(r"^(?:間?後|以内|先|住|働|勤|払い続け|返済期間|前に|ぶり|\d{1,2}月)")
#: 「35年ローン」: a loan term, not arrears.
YEARS_NOT_ARREARS_AFTER = re.compile(r"^(?:ローン|返済|払い|固定|変動)")
#: 「督促状が3回来た」: a count of letters or calls, not of missed payments.
DURATION_COUNT_NOT_ARREARS_AFTER = re.compile(r"^(?:も|ほど|くらい|ぐらい)?(?:来|き|届|電話|督促|連絡|通知|手紙)")
#: A duration preceded by these is about something else (years lived, term left ...).
DURATION_NOT_ARREARS_BEFORE = re.compile(
    r"(?:住んで|住み|組んで|購入して|買って|勤めて|働いて|結婚して|残り|あと|築|令和|平成|昭和|r|h|返済期間|期間|ローン期間|まで|最長|最大|目安|約款|規約)$"
)

#: Words that say a payment is being missed.
ARREARS_KEYWORD = re.compile(
    r"滞納|延滞|滞っ|滞り|滞らせ|未払|未納|遅延|遅れて|遅れた|遅れてい|溜ま|溜め|たまって|ためて|ためちゃ"
    r"|払え(?:て)?(?:い)?(?:な|ず|ませ)|払って(?:い)?(?:な|ませ)|払えなかっ|払わな(?:く|かっ)|払わない(?!と|で|よう)|払ってくれな"
    r"|(?:支払|返済|入金|引落|引き落とし|引落し)(?:い|し)?(?:が|を|は)?(?:でき|出来|され)(?:て)?(?:い)?(?:な|ず|ませ)"
    r"|(?:返済|支払い?|入金|引き?落とし)(?:が|を|は)?[^。!?\n]{0,8}?(?:でき|出来)(?:て)?(?:い)?(?:な|ず|ませ)"
    r"|引き?落と?せ(?:て)?(?:い)?(?:な|ず|ませ)|落ちて(?:い)?(?:な|ませ)|落ちなかっ|返せ(?:て)?(?:い)?(?:な|ず|ませ)"
    r"|(?:返済|支払い?|入金|引き?落とし)(?:が|は)?(?:止まっ|ストップし)"
)
#: Right after an arrears keyword: it is negated (「滞納はしていない」).
ARREARS_KEYWORD_NEGATED_AFTER = re.compile(
    r"^(?:は|も|とか)?(?:まだ|一度も|一回も)?(?:して|し|したこと(?:は|が)?)?(?:い|おり)?(?:ない|ません|ありません|なし|無し|ゼロ|0)"
)
#: Arrears keyword followed by a conditional: 「3ヶ月滞納したら」 is a question, not a fact.
ARREARS_HYPOTHETICAL_AFTER = re.compile(r"^(?:し|が)?(?:たら|すると|すれば|になったら|になると|が続くと|続いたら|した場合|する場合|の場合)")
#: Statements that there are no arrears.
NO_ARREARS = re.compile(
    r"(?:滞納|延滞)(?:は|も|とか)?(?:まだ|今のところ|いまのところ|今は|現在|特に|これまで|今まで)?(?:一度も|一回も)?(?:して(?:い|おり)?(?:ない|ません)|したことが?(?:ない|ありません)|ありません|ない(?:です)?(?:[。!?\n]|$)|なし|無し|ゼロ)"
    r"|(?:払え|支払え|返済でき|返済出来|払っ|支払っ)て(?:い|おり)?(?:る|ます(?!ん))"
    r"|遅れたこと(?:は|が)?(?:一度も|一回も)?(?:ない|ありません)"
    r"|(?:一度も|一回も)(?:遅れ|滞納し|延滞し|滞っ|遅延し)(?:て|た)?(?:い|おり|こと(?:は|が)?)?(?:ない|ません|ありません)"
)
#: Words that carry no information when someone just answers 「4ヶ月」.
BARE_ANSWER_FILLER = re.compile(
    r"やっぱり|やはり|たぶん|多分|だいたい|大体|およそ|約|くらい|ぐらい|位|程度|ほど|以上|ちょっと|すでに|既に"
    r"|今で|現在|もう|今は|今|です|でした|ですね|になります|なります|ですかね|かな|かと|思います|と思う|はい|えっと|えーと|うーん"
    r"|滞納|延滞|目|分|ね|よ|で|弱|強|ええ|あ|中"
)
PAST_MONTH_START = re.compile(r"(?P<rel>先々月|先月|今月)(?:分)?(?:から|の(?:分|返済|支払い?|引き?落とし)|分)?")
MONTH_START = re.compile(r"(?<![\d/.年])(?P<last>去年の?|昨年の?)?(?P<mon>\d{1,2})月(?:分)?から")

# ---------------------------------------------------------------------------
# Co-ownership, guarantor, divorce
# ---------------------------------------------------------------------------

_FAMILY = r"(?:夫|妻|主人|旦那|嫁|奥さん|家内|父|母|父親|母親|親|兄|弟|姉|妹|息子|娘|義父|義母|彼|彼女|元夫|元妻|配偶者)"
_ME = r"(?:私|自分|僕|俺|わたし|あたし)"

CO_OWNED_NEGATED_SINGLE = re.compile(r"単独(?:名義)?(?:では|じゃ)(?:ない|なく|ありません)")
CO_OWNED_NO = re.compile(
    r"共有(?:名義)?(?:では|じゃ|で|は)(?:は)?(?:ない|なく|ありません)"
    rf"|単独(?:名義|所有|で)|{_ME}(?:だけ|のみ|一人|ひとり|単独)(?:の)?名義"
    rf"|名義(?:は|も|:)?(?:{_ME}|{_FAMILY})(?:だけ|のみ|一人|ひとり|単独|です|。|$|\n)"
    rf"|名義は{_ME}ひとり|一人の名義"
    rf"|(?<![と共])(?:{_FAMILY}|{_ME})(?:の)?名義(?:です|だ|で|。|$|\n|の家|になって)"
)
CO_OWNED_YES = re.compile(
    r"(?<!情報)(?<!データ)(?<!画面)共有(?!して(?:くだ|くれ|ほし))|夫婦(?:の|で|共同|共有)?名義|名義(?:は|が)?(?:夫婦|ふたり|二人|2人|両方|共同)"
    rf"|ペアローン|連名|持分|持ち分"
    rf"|{_FAMILY}(?:と|との)(?:{_ME})?(?:の)?(?:二人|2人|ふたり|共同|共有|連名)?(?:の)?名義"
    rf"|名義(?:は|が)?{_FAMILY}と{_ME}|{_ME}と{_FAMILY}(?:の)?(?:二人|2人|ふたり|共同|共有)?(?:の)?名義"
    rf"|二人(?:の)?名義|2人(?:の)?名義|ふたり(?:の)?名義"
    r"|(?:半分|半々|折半)(?:ずつ)?(?:の)?(?:名義|持|所有|で買|で購入)"
)

GUARANTOR_NO = re.compile(
    r"保証人(?:は|が|を|も|とか|なんて|なんか)?(?:特に|誰も|だれも|一人も)?(?:つけ|付け|立て|つい|付い|い|居|おり|頼ん)(?:て)?(?:い|お)?"
    r"(?:ない|ません|なかった|ませんでした|ず|なく|ねー)"
    r"|保証人(?:は|が|も|とか)?(?:特に)?(?:い|居|おり)(?:ない|ません|なく|ねー)"
    r"|保証人(?:は|が)?(?:なし|無し|不要|いらない|ついて(?:い)?ない|付いて(?:い)?ない|つけて(?:い)?ない|付けて(?:い)?ない|立てて(?:い)?ない|ついてません|つけてません|立ててません)"
    r"|保証人を?(?:つけ|付け|立て)(?:て)?(?:い)?(?:ない|ません|ず)"
    r"|保証人(?:なし|無し)"
)
GUARANTOR_YES = re.compile(
    r"保証人(?:が|は|も)?(?:い(?:る|ます)|居(?:る|ます)|つい|付い|おり|あり|つき|付き)"
    rf"|{_FAMILY}(?:が|は|を|に)(?:連帯)?保証人"
    rf"|保証人(?:は|が|には)(?:{_FAMILY}|友人|知人|社長|兄弟)"
    r"|(?:連帯)?保証人に(?:なって|なってもらっ|なってくれ)"
    rf"|(?:{_FAMILY}|友人|知人)(?:の|を)(?:連帯)?保証人"
    rf"|保証人(?:の|である|をしている|をしてる|してる)(?:{_FAMILY}|友人|知人)"
)
GUARANTOR_HYPOTHETICAL_AFTER = re.compile(r"^(?:と(?!して|か|は)|場合|なら|たら|とき|時|かどうか|か(?:は|も)?(?:分|わか|不明|知ら))")
#: The writer is the guarantor: 「私が連帯保証人」「保証人は私です」「保証人になってるのは自分」.
GUARANTOR_SELF_YES = re.compile(
    rf"{_ME}(?:は|が|も|こそ|って)[^。!?\n、]{{0,12}}?(?:連帯)?保証(?:人|し|を)"
    r"(?!(?:が|は|も)(?:い|居|おり|あり|な|つ|付)|を(?:つけ|付け|立て|探|頼|お願い))"
    rf"|(?:連帯)?保証(?:人)?(?:は|って|なのは|に(?:なって|なっ)(?:い)?る(?:の|ん)は|を(?:して)?(?:い)?る(?:の|ん)は|したのは)[、,]?(?:実は)?{_ME}"
)
#: 「夫のローンの保証人をしてます」: someone's loan, and no other subject: the writer.
GUARANTOR_FOR_OTHER = re.compile(
    rf"(?:{_FAMILY}|友人|知人|会社|社長|兄弟)(?:さん)?の(?:住宅|家の|車の|会社の|事業の)?(?:ローン|借金|借入|借り入れ|債務)?の?(?:連帯)?保証人"
    r"|(?:連帯)?保証人を(?:引き受け|頼まれ|している|してる|しています|してます|しており|やって)"
)
#: A subject other than the writer before the guarantor word: 「妻が」「父は」「兄に(なってもらった)」.
GUARANTOR_OTHER_SUBJECT = re.compile(rf"{_FAMILY}(?:さん)?(?:が|は|に|も)|(?:友人|知人|社長)(?:が|は|に)")
#: The writer says they are not a guarantor.
GUARANTOR_SELF_NO = re.compile(
    rf"{_ME}(?:は|が)?(?:連帯)?保証人(?:では|じゃ)(?:ない|なく|ありません)"
    rf"|{_ME}(?:は|が)[^。!?\n]{{0,16}}?(?:連帯)?保証人(?:では|じゃ)(?:ない|なく|ありません)"
    rf"|{_ME}(?:は|が)(?:連帯)?保証人に(?:は)?な(?:って|っては)(?:い)?(?:ない|ません)"
)

DIVORCE_NONE = re.compile(
    r"離婚(?:は|も|とか)?(?:して|し)(?:い|おり)?(?:ない|ません)(?!と|か|ように|ため|場合)"
    r"|離婚(?:は|とか|とかは|とは|の話は|の予定は|する予定は|するつもりは|は特に)?(?:特に)?(?:関係|無関係|予定|つもり)?(?:は|も)?(?:ない|なく|ありません|なし|無し)"
    r"|離婚(?:は|とか|とは|とかは|も)?(?:関係|無関係)|離婚(?:は)?しない"
)
DIVORCE_DONE = re.compile(
    r"離婚(?:した(?![らいく])|しました|しています|している|してる|しており|済|が成立|成立|届を出し|届けを出し|が決まった)"
    r"|離婚して(?!ほし|欲し|くれ|も|ない|いない|ません|いません|たら|もらい)"
    r"|元(?:妻|夫|嫁|旦那|配偶者|奥さん|主人|ダンナ)|前(?:妻|夫)(?!の?名義)|バツイチ|ばついち|別れた(?:妻|夫|嫁|旦那)"
    r"|前の(?:妻|夫|奥さん|旦那|主人|嫁|配偶者|家内)|離婚届(?:は|を|も)?(?:もう|既に|すでに)?(?:出し|提出し)(?:た|まし|て(?:い|あ))"
)
#: Separated: on the way to a divorce, as far as the advice goes (both must still agree to sell).
DIVORCE_SEPARATED = re.compile(r"別居(?:中|して(?!(?:い|お)?(?:ない|ません)|たら)|してる|状態|生活|を始め|にな)")
#: Never married: divorce does not apply.
DIVORCE_SINGLE = re.compile(r"独身|未婚|結婚(?:は)?(?:して|し)(?:い|おり)?(?:ない|ません)|結婚歴(?:は)?(?:ない|なし|ありません)|独り身|一人身")
#: 「夫と別れました」「妻とは別れることになりそう」: parting from a spouse is 離婚 in other words.
PARTED = re.compile(
    r"((?:夫|妻|主人|旦那|だんな|嫁|奥さん|家内|配偶者|パートナー)(?:さん)?(?:と|とは)[^。!?\n、]{0,8}?)"
    r"別れ(ること|る|たい|た|て|まし|よう|そう)"
)
DIVORCE_HYPOTHETICAL_AFTER = re.compile(r"^(?:ら|場合|とき|時|なら|後の?どう)")
DIVORCE_IN_PROGRESS = re.compile(
    r"離婚(?:協議|調停|裁判|訴訟|の話|話|を考え|を検討|検討|予定|するかも|しそう|しようと|する(?:こと|予定|方向|つもり|かも)"
    r"|寸前|間近|手続|の手続|準備|届を?(?:出す|書い)|を切り出|を迫|を言い渡|を言われ|したい|してほし|して欲し|してくれ|を求め|前提|に向け|の危機|危機|が決まりそう|になりそう|することにな|に向か)"
    r"|(?:協議|調停)中"
)

# ---------------------------------------------------------------------------
# Notices
# ---------------------------------------------------------------------------

NOTICE_TERMS: dict[str, re.Pattern[str]] = {
    "dunning": re.compile(
        r"督促|催告|最終通告|最終通知|催促|入金のお願い|来店(?:依頼|のお願い)|支払い?のお願い"
    ),
    "acceleration": re.compile(
        r"期限の利益(?:の)?(?:喪失)?"
        r"|一括(?:請求|返済|弁済|返還|支払い?|で(?:の)?(?:返済|支払い?|払い|返す|払う|返せ|払え))?(?:を|で|の)?"
        r"(?:求め|要求|請求|迫|言われ|通知|しろ|しなさい|せよ|してください|して下さい|と書|の書類|の手紙|の書面|が来|が届|と言|を要求|の連絡|って)"
        r"|一括(?:で)?(?:払|返)(?:え|せ)|全額(?:一括|繰上|返済|請求|払え|返せ|を?一括)|繰上償還請求|一括請求"
        r"|一括(?:で|して)?(?:返し|払っ|支払っ|返済し)て(?:ください|下さい|くれ|ほしい|欲しい)"
    ),
    "subrogation": re.compile(
        r"代位弁済"
        r"|保証会社[^。!?\n]{0,8}?(?:立て替|立替|代わりに|肩代わり|代位|弁済)"
        r"|保証会社(?:が|から|に|は)?(?:の)?(?:一括|請求|督促|通知|手紙|書類|連絡|電話)"
        r"|(?:債権者|債権|ローン)(?:が|は)?(?:保証会社|サービサー|債権回収会社)(?:に|へ)(?:移|譲渡|うつ|変わ|かわ)"
        r"|サービサー|債権回収会社|住宅債権管理回収機構"
    ),
    "auction_start": re.compile(
        r"競売開始決定|開始決定|担保不動産競売|競売(?:の)?(?:申し?立て?|申立)|差押"
        r"|競売(?:の|に関する)?(?:通知|書類|手紙|決定|開始|お知らせ|通告)"
        r"|競売にかけられ|競売が(?:始ま|決ま|開始)|競売にな(?:った|りました|っている|ってる|ってしまっ)"
    ),
    "site_inspection": re.compile(r"現況調査|執行官|評価人"),
    "bid_notice": re.compile(
        r"期間入札|入札期間|入札(?:の)?(?:期間|通知|日|期日|開始|お知らせ)|入札[^。!?\n]{0,12}?始ま|開札|売却基準価額|買受可能価額|売却決定期日|売却許可決定"
    ),
}
#: 「督促状しか来ていない」: "only", not a negation.
ONLY_AFTER = re.compile(r"^(?:状|書|通知書?)?(?:だけ)?しか")
#: Who seized: a tax authority (公売 path, not an auction by the lender) ...
TAX_AUTHORITY = re.compile(
    r"市役所|区役所|町役場|村役場|役場|役所|税務署|県税|都税|府税|道税|市税|税事務所|自治体|固定資産税|住民税|税金|国民健康保険|国保"
    r"|年金事務所|社会保険料|滞納処分|納税|税務課|収納課|徴収|(?<![a-z])(?:市|区|町|村)(?:から|が|に|の)"
)
#: ... or the lender's side (a 競売).
LOAN_AUTHORITY = re.compile(r"銀行|保証会社|裁判所|債権者|金融機関|機構|ローン|サービサー|債権回収|競売|抵当")
#: Right after a notice word: it has not come (「競売の通知はまだ来ていない」).
NOTICE_NEGATED_AFTER = re.compile(
    r"(?:来|き|届い|もらっ|貰っ|受け取っ|送られてき|送ってき|出|なっ|され)て(?:い|おり)?(?:ない|ません|ねー|へん)"
    r"|(?:来|こ|届か|き)(?:ない|ません|ず)"
    r"|^(?:は|も|とか|など|なんか|の通知|の通知は|の書類は)?(?:まだ)?(?:ない|無い|なし|無し|ありません|来ない|届かない|きてない)"
    r"|まだ(?:です|だ|$)|(?:は|も)まだ"
)
#: Right after a notice word: it is only a warning, a plan, a condition or a definition question.
NOTICE_WARNING_AFTER = re.compile(
    r"予告|予定|恐れ|おそれ|可能性|かも|場合|前に|前の|手前|警告|ことにな|ことがある|(?:され|なり|来|き|し|始まり|届き)そう"
    r"|(?:来|き|届|され|なっ|し|出|で)たら(?!し)|って(?:何|なに|なん|どう)|とは|というのは|ってどういう|の意味|って本当|ってほんと"
    r"|を避け|を回避|にならない|されない|しない(?:よう|ため)|される(?:の|か|$)|になるの|なる(?:の|か)\?"
    r"|避けたい|前段階|(?:来る|届く|くる|なる)(?:まで|の\?|のか|んですか|か\?)|防"
)
#: Right before a notice word: what follows is a condition or a future possibility.
NOTICE_WARNING_BEFORE = re.compile(
    r"このまま|(?:な|ず)(?:いと|ければ|い場合|かった場合|いなら)|場合(?:は|には)?|いずれ|そのうち|今後|将来|最終的|次(?:は|に)|やがて|もし|万一|万が一|いつ(?!も)|どうすれば"
)
#: 期限の利益 followed by a non-past verb is the warning printed in a 督促状, not the notice.
ACCELERATION_NON_PAST_AFTER = re.compile(
    r"^(?:を|が|の)?(?:喪失|失)(?:う|います|いかね|する|します|させ|となる|となります|になる|になります|するこ|するよう)"
)
#: In a question, a notice word counts only with one of these (「代位弁済って何ですか？」 has none).
NOTICE_RECEIPT = re.compile(
    r"来た|来て|来まし|来てる|きた|きて|きまし|届い|届き|受け取|もらっ|貰っ|ある|あり|出た|出まし|出て|なった|なりまし|なって"
    r"|され(?:た|まし|て)|かけられ|決ま|終わ|入って|始ま"
)
#: Between two notice words: a list, so both share the same negation.
NOTICE_LIST_JOIN = re.compile(r"^(?:状|書|通知書?|の?通知|の?書類)?(?:とか|や|と|も|、|,|・|または|か|の)*$")

# ---------------------------------------------------------------------------
# FAQ topics
# ---------------------------------------------------------------------------

FAQ_TOPICS: list[tuple[str, re.Pattern[str]]] = [
    ("moving_costs", re.compile(r"引越(?:代|費|の?(?:お金|費用|代金|資金)|資金|料|代金)|立ち?退き料|転居(?:費|の費用)")),
    ("credit_blacklist", re.compile(
        r"ブラック|信用情報|クレジット|クレカ|カード(?:が|は|を)?(?:作れ|使え|止ま|持て|作る)"
        r"|(?:ローン|借り入れ|借入)(?:が|は|を|とか|も)?(?:組め|組む|組ん|通ら|借りれ|借りられ)|事故(?:情報|扱い)"
        r"|審査(?:に|が|は)?(?:通|落|影響)|個人信用|cic|jicc"
    )),
    ("residual_debt", re.compile(
        r"残債|残った(?:ローン|借金|債務|分|お金)|残り(?:の)?(?:ローン|借金|債務|返済)|残る(?:借金|ローン|債務|分)"
        r"|(?:借金|ローン|債務)(?:が|は|って)?(?:残|のこ)|売っても(?:残|足り|返しきれ|払いきれ|完済でき)|足りない分"
        r"|オーバーローン|完済でき(?:ない|なかっ)|払いきれない分|返しきれない"
    )),
    ("stay_after_sale", re.compile(
        r"住み続け|リースバック|(?:家|自宅|今の家|ここ|この家)に(?:残|住め|住み|いられ|居られ|住んで)|住んだまま"
        r"|出て(?:いか|行か)(?:なきゃ|ないと|なければ|なく)|退去(?:しな|させ|が必要)"
        r"|親(?:族|戚)?(?:に|が)(?:買|購入)|親子間売買|買い戻"
    )),
    ("timeline", re.compile(
        r"どのくらいの期間|どれくらいの期間|(?:どのくらい|どれくらい|どれぐらい|どのぐらい)(?:かか|で|時間|の期間|の時間|先|後)"
        r"|何(?:ヶ月|日|年|週間|カ月)|いつ(?!も|か)|期間|期限(?!の利益)|スケジュール|流れ|猶予|あと何"
    )),
    ("costs_fees", re.compile(
        r"費用|手数料|料金|お金(?:が|は|って)?(?:かか|必要|いる|要る)|いくら(?:かか|必要|払|取られ|ぐらい|くらい)?"
        r"|無料|タダ|報酬|相談料|諸費用|実費|持ち出し|自己負担"
    )),
    ("auction_vs_voluntary", re.compile(
        r"違い|何が違う|比べ|どっち|どちら|メリット|デメリット|任意売却(?:とは|って(?:何|なに|なん))"
        r"|競売(?:より|のほうが|の方が)|任意売却(?:より|のほうが|の方が)|競売(?:と|か)任意売却|任意売却(?:と|か)競売"
    )),
    ("eligibility", re.compile(
        r"私でも|自分でも|僕でも|うちでも|誰でも|条件|対象(?:に|で|外)|今からでも|間に合"
        r"|任意売却(?:は|って|を|が)?(?:でき|出来|可能|利用|受け|頼め|お願いでき|してもらえ)"
    )),
    ("divorce", re.compile(
        r"離婚(?:したら|した場合|すると|する場合|しても|後|の場合|のとき|の時|時|の際|した後|で(?:家|ローン|名義))|財産分与"
    )),
    ("guarantor", re.compile(
        r"保証人[^。!?\n]{0,10}?(?:迷惑|請求|影響|どうな|大丈夫|責任|負担|バレ|ばれ|知られ|連絡|払わ|支払|返済|行く|いく)"
        r"|保証人への|連帯保証(?:人)?(?:って|とは)"
    )),
]
QUESTION = re.compile(
    r"\?|ですか|ますか|でしょうか|ませんか|(?<!くらい)(?<!ぐらい)(?<!程度)(?<!ほど)かな(?:[ぁあー〜~…。!?\n]|$|と(?:思|おも))|かね(?:[ぇえー〜~…。!?\n]|$)|教えて|知りたい|どうなる|どうなり|どうすれば|どうしたら"
    r"|どうやって|どうする(?:の|ん|べき)|なんですか|何ですか|いくら|どのくらい|どれくらい|どっち|どちら|いつまで|って何|ってなに|とは(?:$|[。!?])"
    r"|か(?:[。!?…〜ー~]*)$|[るいたえ]の$|可能$|大丈夫$|本当$|ほんと$"
    # colloquial LINE questions without a question mark: 「…払うの」「…いくの」「何を準備すればいい」
    # 「…のでは」「…だろう」「言うと何」, and hearsay asking to be confirmed 「…ってきいた」
    r"|の[ぉおー〜~…]*$|(?:ば|たら)(?:いい|よい)(?:の|ん)?$|(?:のでは|んじゃ(?:ない)?|だろう?|でしょう?|っけ)[ねぇえー〜~…]*$"
    r"|(?:何|なに|なん)[ー〜~…]*$|(?:って|と)(?:聞い|きい|聞き|きき|見|読ん)(?:た|だ|ました)(?:けど|んですが|んだけど|が)?$"
)
#: Worry or wish: a sentence that carries a topic word and one of these asks about it.
CONCERN = re.compile(
    r"心配|不安|気にな(?:る|り|っ)|知りたい|わからない|分からない|困る|困って|(?<!み)(?:たい|たくない)(?:です|んです|のです)?(?:けど|けれど|が)?$|希望|避けたい|怖い|こわい"
    r"|どうしよう|つらい|辛い|耐えられ|(?<!み)たくない(?:んです|です)?、"
    # at a loss, torn, ashamed, or a statement left open for an answer (「…払えてないんだけど」)
    r"|わかりません|分かりません|わからなくて|迷って|悩んで|悩み|顔向けでき|合わせる顔"
    r"|(?:し|協力し|同意し)てくれ(?:ない|ません)|(?:けど|けれど|んですが|のですが|んだが)$"
    r"|気がしない|そうに(?:ない|ありません)|すぎ(?:る|ます)$|なんて$|真っ白|覚悟ができ|(?:よ|だよ|んだよ)ね[ぇえー〜~…]*$"
)
#: A worry without a question is answered only at this confidence of the classifier: the lowest
#: at which, in 5-fold cross-validation of the examples, 95 % of the answered ones are right
#: (0.70 with char + word features: 95.5 %, 48 % answered; re-check after adding examples).
WORRY_THRESHOLD = 0.7
TRAILING_NOISE = re.compile(r"[\W_wｗ笑]+$")

# ---------------------------------------------------------------------------
# Wants a human
# ---------------------------------------------------------------------------

HUMAN_CHANNEL = re.compile(
    r"人と|人間|担当(?:者|の方|さん)|オペレーター?|電話|直接|相談(?!料|先|窓口)|面談|会って|専門家|スタッフ|誰か(?:と|に)|折り?返し|連絡(?=く|下|ほ|欲|を)|来て"
)
HUMAN_DESIRE = re.compile(
    r"たい|ほしい|欲しい|ください|下さい|くださ|もらえ|もらい|いただけ|いただき|頂け|頂き|できます|できる\?|できるか|できませんか"
    r"|可能|お願い|希望|してくれ|話せ|かわって|代わって|代わり|乗って|のって|させて|つないで|繋いで|つなげ|番号|予約"
)
HUMAN_NEGATION = re.compile(r"苦手|無理|たくない|いらない|要らない|不要|結構|しないで|やめ|嫌|いや|できない|出られない|なくていい|ません")
HUMAN_NOT_MINE_BEFORE = re.compile(r"から$|からの$|銀行の$|保証会社の$|債権者の$|裁判所の$")

# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------

DATE_CUE = re.compile(
    r"(?:令和|平成|昭和|r|h|R|H)\s*[0-9〇一二三四五六七八九十元]"
    r"|[0-9〇一二三四五六七八九十]{1,4}\s*[年月/\-]\s*[0-9〇一二三四五六七八九十]"
    r"|明日|明後日|昨日|一昨日|来週|今週|再来週|来月|今月|再来月|[0-9〇一二三四五六七八九十]\s*(?:日|週間)\s*(?:後|前)"
)
YEARLESS_LOOKBACK_DAYS = 29  # a year-less date up to this many days ago stays in the past
#: After a year-less date, in its clause: it is in the past (「…に終わりました」「…に届いた」).
#: Not the copula 「でした」: 「開札は12月14日でした」 corrects what the letter says, it does
#: not say the day passed (a court date that did pass is found by COURT_DATE_BEFORE).
PAST_AFTER = re.compile(
    r"^(?:に|は|で|が|の)?(?:もう|すでに|既に)?"
    r"(?:終わ|過ぎ|済ん|済み|あった|ありまし|届いた|届きまし|来た|来まし|きた|きまし|出た|出まし|受け取っ|行われ)"
)
#: Before a year-less date: a court date (開札, 入札), never more than half a year ahead.
COURT_DATE_BEFORE = re.compile(r"開札|入札|売却決定")
COURT_DATE_MAX_AHEAD_DAYS = 183
#: 「R9.1.20から1.27まで」: the end of a range in the short form ja-timex does not read alone.
SHORT_RANGE_END = re.compile(r"(から|〜|~)(\d{1,2})[./](\d{1,2})(?![\d./])")
RANGE_JOIN = re.compile(r"^(?:〜|~|から|-|ー|–|—|より)(?:の)?$")


@dataclass
class Reading:
    """What one message says about the homeowner's situation; ``None`` = not said."""

    arrears_months: int | None = None
    co_owned: bool | None = None
    joint_guarantor: bool | None = None
    divorce: Divorce | None = None
    notices: set[str] = field(default_factory=set)
    dates: list[dt.date] = field(default_factory=list)
    faq_topic: str | None = None
    #: the closest FAQ topics, best first: the three closest when ``faq_topic`` is None
    #: (below the classifier's confidence threshold; the dialog offers them as 「こちらの
    #: ことですか?」), else the other close ones
    faq_candidates: list[str] = field(default_factory=list)
    wants_human: bool = False
    #: the homeowner is themself a (連帯)保証人, e.g. for a spouse's loan; kept apart from
    #: ``joint_guarantor`` (whether the loan has a guarantor at all)
    guarantor_self: bool | None = None
    #: a seizure by a municipality or tax office (市役所, 税務署, 固定資産税の差押): its own
    #: path (公売), never a 競売開始決定
    tax_seizure: bool = False


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def understand(text: str, today: dt.date) -> Reading:
    """Read ``text`` (one user message) as of ``today``. Pure; never raises."""
    reading = Reading()
    if not isinstance(text, str) or not text:
        return reading
    try:
        plain = _nfkc(text)
        norm = _normalize(plain)
    except Exception:  # pragma: no cover - defensive: normalisation should not fail
        logger.exception("understanding: normalisation failed")
        return reading
    readers = (
        ("arrears_months", lambda: read_arrears(norm, today)),
        ("co_owned", lambda: read_co_owned(norm)),
        ("joint_guarantor", lambda: read_joint_guarantor(norm)),
        ("divorce", lambda: read_divorce(norm)),
        ("notices", lambda: read_notices_and_tax(norm)),
        ("guarantor_self", lambda: read_guarantor_self(norm)),
        ("dates", lambda: read_dates(plain, today)),
        ("faq", lambda: read_faq(norm)),
        ("wants_human", lambda: read_wants_human(norm)),
    )
    for name, read in readers:
        try:
            value = read()
        except Exception:  # a bug in one field must not lose the others
            logger.exception("understanding: reading %s failed", name)
            continue
        if name == "faq":
            reading.faq_topic, reading.faq_candidates = value
        elif name == "notices":
            reading.notices, reading.tax_seizure = value
        else:
            setattr(reading, name, value)
    return reading


def warm_up(background: bool = True) -> None:
    """Load ja-timex and compile its patterns (0.2–0.5 s), and train the FAQ classifier, so the
    first user does not pay for it.

    The classifier costs ~1.6 s of CPU (importing scikit-learn 1.3 s, the fit 0.3 s): in the
    background by default (the event worker calls this before its first event; done inline,
    the first answers of a restarted worker came too late for their reply tokens in the
    SIGKILL drill). Questions read meanwhile fall back to the topic keywords and "other".
    The same thread then trains the crisis classifier (``dialogs.care``, ~0.1 s more);
    meanwhile crisis words are read by the rules alone."""
    global _training_in_background
    understand("令和8年12月3日", dt.date(2026, 11, 27))
    if _classifier is not None or _classifier_failed or _training_in_background:
        return
    if background:
        _training_in_background = True
        care.train_in_background()
        threading.Thread(target=_train_classifiers, name="ninbai-faq-classifier", daemon=True).start()
    else:
        _train_classifiers()


def _train_classifiers() -> None:
    """The FAQ classifier, then the crisis classifier, in the one warm-up thread (neither raises)."""
    _train_classifier()
    care.train_classifier()


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

_VARIANTS_COMPILED = [(re.compile(p), r) for p, r in VARIANTS]
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\ufe00-\ufe0f]")


def _nfkc(text: str) -> str:
    """NFKC, capped, with line breaks unified and invisible characters removed."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])[:MAX_CHARS]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub("", text)


def _normalize(plain: str) -> str:
    """The keyword form: lower case, no spaces, variants folded, month counters unified."""
    text = re.sub(r"[ \t\f\v]+", "", plain).lower()
    for pattern, canonical in _VARIANTS_COMPILED:
        text = pattern.sub(canonical, text)
    text = ECHO_QUESTION.sub(r"\1は", text)
    return MONTH_COUNTER.sub("ヶ月", text)


_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _number(token: str | None) -> float | None:
    """「3」「3.5」「三」「十二」「二十」 → number."""
    if not token:
        return None
    if token[0].isdigit():
        try:
            return float(token)
        except ValueError:
            return None
    total, current = 0, 0
    for ch in token:
        if ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch in _KANJI_DIGITS:
            current = current * 10 + _KANJI_DIGITS[ch]
        else:
            return None
    return float(total + current)


def _sentences(text: str, pattern: re.Pattern[str] = SENTENCE) -> list[tuple[int, str]]:
    """(start offset, sentence with its terminator), at most ``MAX_SENTENCES``."""
    out = []
    for m in pattern.finditer(text):
        out.append((m.start(), m.group()))
        if len(out) >= MAX_SENTENCES:
            break
    return out


# ---------------------------------------------------------------------------
# Arrears
# ---------------------------------------------------------------------------


def _duration_months(m: re.Match[str]) -> tuple[int | None, bool]:
    """Months a DURATION match stands for, and whether it was 「N回分」 (self-evidently arrears)."""
    if m.group("half"):
        return 6, False
    if m.group("y"):
        years = _number(m.group("y"))
        if years is None:
            return None, False
        months = years * 12 + (6 if m.group("yh") else 0) + (_number(m.group("ym")) or 0)
        return int(months), False
    if m.group("m"):
        months = _number(m.group("m"))
        return (int(months) if months is not None else None), False
    count = _number(m.group("k"))
    return (int(count) if count is not None else None), bool(m.group("kb"))


def _arrears_keywords(sentence: str) -> list[tuple[int, int]]:
    """Spans of positive (not negated, not hypothetical) arrears keywords."""
    spans: list[tuple[int, int]] = []
    for k in ARREARS_KEYWORD.finditer(sentence):
        if len(spans) >= MAX_HITS:
            break
        after = sentence[k.end(): k.end() + 12]
        if k.group().startswith(("滞納", "延滞")) and ARREARS_KEYWORD_NEGATED_AFTER.match(after):
            continue
        if ARREARS_HYPOTHETICAL_AFTER.match(after):
            continue
        spans.append(k.span())
    return spans


def _is_bare_answer(sentence_text: str, m: re.Match[str]) -> bool:
    rest = sentence_text[: m.start()] + sentence_text[m.end():]
    rest = BARE_ANSWER_FILLER.sub("", rest)
    return not re.sub(r"[\W_]+", "", rest)


def read_arrears(text: str, today: dt.date) -> int | None:
    """Months behind: a number, 0 for 「滞納はしていない」, or ``None`` when not said."""
    best: tuple[int, int] | None = None  # (distance, months)
    sentences = _sentences(text, SENTENCE_KEEP_LINES)
    whole_is_one = len([s for _, s in sentences if re.sub(r"[\W_]+", "", s)]) == 1
    for _, sentence in sentences:
        keywords = _arrears_keywords(sentence)
        for n, d in enumerate(DURATION.finditer(sentence)):
            if n >= MAX_HITS:
                break
            months, is_installments = _duration_months(d)
            if months is None or months > MAX_ARREARS_MONTHS:
                continue
            after = sentence[d.end(): d.end() + 8]
            before = sentence[max(0, d.start() - 8): d.start()]
            if DURATION_NOT_ARREARS_AFTER.match(after) or DURATION_NOT_ARREARS_BEFORE.search(before):
                continue
            if d.group("y") and YEARS_NOT_ARREARS_AFTER.match(after):
                continue
            if d.group("k") and not d.group("kb") and DURATION_COUNT_NOT_ARREARS_AFTER.match(after):
                continue
            if months == 1 and d.group("k") and after.startswith("も"):  # 「一回も…ない」 means never
                continue
            distance = _keyword_distance(d.span(), keywords)
            if distance is None and is_installments and not re.match(r"^(?:の?(?:督促|通知|手紙))", after):
                distance = 20
            if distance is None and whole_is_one and len(sentence) <= 40 and _is_bare_answer(sentence, d):
                distance = 30
            if distance is None:
                continue
            if best is None or distance < best[0]:
                best = (distance, months)
    if best is not None:
        return best[1]
    relative = _arrears_since_month(sentences, today)
    if relative is not None:
        return relative
    if NO_ARREARS.search(text):
        return 0
    return None


def _keyword_distance(span: tuple[int, int], keywords: list[tuple[int, int]]) -> int | None:
    """Characters between a duration and the nearest arrears keyword (≤ 15), keyword-before costs 2 more."""
    best = None
    i = bisect_left(keywords, (span[0], span[0]))
    for ks, ke in keywords[max(0, i - 2): i + 2]:
        if ks >= span[1]:
            gap = ks - span[1]
        elif ke <= span[0]:
            gap = span[0] - ke + 2
        else:
            gap = 0
        if gap <= 15 and (best is None or gap < best):
            best = gap
    return best


def _arrears_since_month(sentences: list[tuple[int, str]], today: dt.date) -> int | None:
    """「先月から払えていない」→ 1, 「4月から滞納」→ months since April."""
    for _, sentence in sentences:
        if not _arrears_keywords(sentence):
            continue
        rel = PAST_MONTH_START.search(sentence)
        if rel:
            return {"先々月": 2, "先月": 1, "今月": 1}[rel.group("rel")]
        mon = MONTH_START.search(sentence)
        if mon:
            month = int(mon.group("mon"))
            if not 1 <= month <= 12:
                continue
            year = today.year - (1 if mon.group("last") or month > today.month else 0)
            months = (today.year - year) * 12 + today.month - month
            if 0 <= months <= MAX_ARREARS_MONTHS:
                return max(months, 1)
    return None


# ---------------------------------------------------------------------------
# Co-ownership, guarantor, divorce
# ---------------------------------------------------------------------------


def read_co_owned(text: str) -> bool | None:
    """True for 共有名義/ペアローン, False for 単独名義, None when not said."""
    if CO_OWNED_NEGATED_SINGLE.search(text):
        return True
    if CO_OWNED_NO.search(text):
        return False
    if CO_OWNED_YES.search(text):
        return True
    return None


def read_joint_guarantor(text: str) -> bool | None:
    """True when a (連帯)保証人 is said to exist; 連帯債務者 and 保証会社 do not count."""
    if GUARANTOR_NO.search(text):
        return False
    if read_guarantor_self(text):
        return True
    for m in GUARANTOR_YES.finditer(text):
        if GUARANTOR_HYPOTHETICAL_AFTER.match(text[m.end(): m.end() + 6]):
            continue
        return True
    return None


def read_guarantor_self(text: str) -> bool | None:
    """True when the writer is themself a (連帯)保証人 (e.g. of a spouse's loan), False when they
    say they are not, None when they do not say. Who is the subject decides, not the word alone."""
    for m in GUARANTOR_SELF_NO.finditer(text):
        if not GUARANTOR_OTHER_SUBJECT.search(m.group()):  # not 「私は、妻が保証人ではなく…」
            return False
    for m in GUARANTOR_SELF_YES.finditer(text):
        if GUARANTOR_OTHER_SUBJECT.search(m.group()):  # 「私は夫が保証人で」
            continue
        if GUARANTOR_HYPOTHETICAL_AFTER.match(text[m.end(): m.end() + 6]):
            continue
        return True
    for m in GUARANTOR_FOR_OTHER.finditer(text):
        after = text[m.end(): m.end() + 6]
        if re.match(rf"^(?:が|は|も)?(?:い|居|おり|あり|な|つ|付|{_FAMILY}|友人|知人)", after):
            continue  # 「夫のローンの保証人は父」「…の保証人がいる」: not the writer
        start = max(text.rfind(c, 0, m.start()) for c in "。!?\n") + 1
        if GUARANTOR_OTHER_SUBJECT.search(text[start: m.start()]) or GUARANTOR_HYPOTHETICAL_AFTER.match(after):
            continue
        return True
    return None


def read_divorce(text: str) -> Divorce | None:
    """"done", "in_progress", "none" (said not to apply) or None (not mentioned)."""
    text = PARTED.sub(lambda m: m.group(1) + "離婚" + {"る": "する", "ること": "すること"}.get(m.group(2), "し" + m.group(2)), text)
    reading = _read_divorce_words(text)
    if reading is None and DIVORCE_SEPARATED.search(text):
        return "in_progress"
    if reading is None and DIVORCE_SINGLE.search(text):
        return "none"
    return reading


def _read_divorce_words(text: str) -> Divorce | None:
    if DIVORCE_NONE.search(text):
        return "none"
    for m in DIVORCE_DONE.finditer(text):
        if DIVORCE_HYPOTHETICAL_AFTER.match(text[m.end(): m.end() + 5]):
            continue
        return "done"
    if DIVORCE_IN_PROGRESS.search(text):
        return "in_progress"
    return None


# ---------------------------------------------------------------------------
# Notices
# ---------------------------------------------------------------------------


def read_notices(text: str) -> set[str]:
    """Notices the user says they received; warnings, conditions and 「まだ来ていない」 excluded."""
    return read_notices_and_tax(text)[0]


def read_notices_and_tax(text: str) -> tuple[set[str], bool]:
    """(notices, tax_seizure): a 差押 by a town hall or tax office is a tax seizure, not a 競売開始決定."""
    found = _read_notices(text)
    return found - {"tax_seizure"}, "tax_seizure" in found


def _seizure_by(text: str, start: int, end: int) -> str:
    """"tax_seizure" when the nearest authority around a 差押 in its sentence is a tax one."""
    s = max(text.rfind(c, 0, start) for c in "。!?\n") + 1
    ends = [i for i in (text.find(c, end) for c in "。!?\n") if i != -1]
    e = min(ends) if ends else len(text)
    best: tuple[int, str] | None = None
    for pattern, kind in ((TAX_AUTHORITY, "tax_seizure"), (LOAN_AUTHORITY, "auction_start")):
        for m in pattern.finditer(text, s, e):
            distance = start - m.end() if m.end() <= start else max(0, m.start() - end)
            if best is None or distance < best[0]:
                best = (distance, kind)
    return best[1] if best else "auction_start"


def _read_notices(text: str) -> set[str]:
    hits: list[tuple[int, int, str]] = []
    for notice, pattern in NOTICE_TERMS.items():
        hits.extend((m.start(), m.end(), notice) for m in pattern.finditer(text))
    if not hits:
        return set()
    hits.sort()
    hits = hits[:MAX_HITS]
    hits = [
        (a, b, _seizure_by(text, a, b)) if n == "auction_start" and "差押" in text[a:b] else (a, b, n) for a, b, n in hits
    ]
    # drop hits nested inside an earlier, longer one of the same notice
    merged: list[tuple[int, int, str]] = []
    for h in hits:
        if merged and h[0] < merged[-1][1] and h[2] == merged[-1][2]:
            continue
        merged.append(h)
    n = len(merged)
    negated = [False] * n
    warning = [False] * n
    prev_end = 0
    for i, (start, end, notice) in enumerate(merged):
        next_start = merged[i + 1][0] if i + 1 < n else len(text)
        after = _clause_after(text, end, max(next_start, end))
        before = _clause_before(text, start, prev_end)
        prev_end = max(prev_end, end)
        # 「督促状しか来ていない」: only that one, so received
        negated[i] = bool(NOTICE_NEGATED_AFTER.search(after)) and not ONLY_AFTER.match(after)
        # a court date 「予定」 comes from the notice itself: 「現況調査は12月10日の予定」
        scheduled = notice in ("site_inspection", "bid_notice")
        warning[i] = bool(
            NOTICE_WARNING_AFTER.search(after.replace("予定", "") if scheduled else after)
            or NOTICE_WARNING_BEFORE.search(before)
        )
        if notice == "acceleration" and _is_non_past_loss(text, start, end):
            warning[i] = True
    # 「督促状や競売の通知は来ていない」: a list shares the negation of its last item
    for i in range(n - 2, -1, -1):
        between = text[merged[i][1]: merged[i + 1][0]]
        if NOTICE_LIST_JOIN.match(between):
            negated[i] = negated[i] or negated[i + 1]
            warning[i] = warning[i] or warning[i + 1]
    asked = _asked_without_receipt(text, merged)
    return {notice for i, (_, _, notice) in enumerate(merged) if not (negated[i] or warning[i] or asked[i])}


def _asked_without_receipt(text: str, hits: list[tuple[int, int, str]]) -> list[bool]:
    """For each hit: is it inside a question that never says the notice arrived?"""
    flags = []
    for start, _, _ in hits:
        s = max(text.rfind(c, 0, start) for c in "。!?\n") + 1
        ends = [i for i in (text.find(c, start) for c in "。!?\n") if i != -1]
        e = min(ends) + 1 if ends else len(text)
        sentence = text[s:e]
        flags.append(_is_question(sentence) and not NOTICE_RECEIPT.search(sentence))
    return flags


def _is_non_past_loss(text: str, start: int, end: int) -> bool:
    """「期限の利益を失います」「…喪失します」: the warning printed in a 督促状, not the notice."""
    tail = text[end: end + 12]
    if text[start:end].endswith("喪失"):
        tail = "喪失" + tail
    return bool(ACCELERATION_NON_PAST_AFTER.match(tail))


def _clause_after(text: str, start: int, stop: int) -> str:
    window = text[start: min(stop, start + 25)]
    cut = CLAUSE_BREAK.search(window)
    return window[: cut.start()] if cut else window


def _clause_before(text: str, end: int, floor: int) -> str:
    window = text[max(floor, end - 15): end]
    cut = max((window.rfind(c) for c in "。!?\n"), default=-1)
    return window[cut + 1:]


# ---------------------------------------------------------------------------
# FAQ topic
# ---------------------------------------------------------------------------


def _topic_in(sentence: str) -> str | None:
    first: tuple[int, int, str] | None = None
    for topic, pattern in FAQ_TOPICS:
        m = pattern.search(sentence)
        if m and (first is None or (m.start(), -m.end()) < (first[0], -first[1])):
            first = (m.start(), m.end(), topic)
    return first[2] if first else None


def _is_question(sentence: str) -> bool:
    core = TRAILING_NOISE.sub("", sentence)
    return bool(QUESTION.search(core) or QUESTION.search(sentence))


def read_faq(text: str) -> tuple[str | None, list[str]]:
    """(topic, candidates) of the free question in ``text``.

    Only sentences that ask (a question) or worry (``CONCERN``) are read, by the
    classifier trained from the FAQ examples (``dialogs.faq_classifier``), which ranks
    every topic. A topic keyword (``FAQ_TOPICS``) in such a sentence decides when the
    classifier ranks that topic among its three closest too (the words and the examples
    agree); otherwise the classifier's first topic is answered at or above its
    threshold. Below it: ``(None, the three closest topics)`` for a question (the
    dialog offers them), nothing for a worry alone (「払えているけど不安」). With a
    topic, the candidates are the other close topics, best first.
    """
    asked: list[str] = []
    worried: list[str] = []
    keyword: str | None = None
    for _, sentence in _sentences(text):
        question = _is_question(sentence)
        concern = bool(CONCERN.search(TRAILING_NOISE.sub("", sentence)))
        if not (question or concern):
            continue
        keyword = keyword or _topic_in(sentence)
        (asked if question else worried).append(sentence)
    if not (asked or worried):
        return None, []
    if keyword is None and care.is_offtopic(text):  # 「今日の天気は?」: not a question about the house
        return None, []
    classifier = faq_classifier()
    if classifier is None:  # not trained (yet): the topic keywords, else "other"
        return (keyword, []) if keyword else (("other", []) if asked else (None, []))
    ranked = classifier.rank("".join(asked + worried))
    closest = [str(t) for t, _ in ranked[:CANDIDATES]]
    if keyword and keyword in closest:
        return keyword, [t for t in closest if t != keyword]
    if asked:
        if ranked[0][1] >= classifier.threshold:
            return closest[0], closest[1:]
        return None, closest
    # a worry or a wish alone (「競売になる前に何とかしたい」) is answered only when it is clear
    return (closest[0], closest[1:]) if ranked[0][1] >= WORRY_THRESHOLD else (None, [])


def read_faq_topic(text: str) -> str | None:
    """The FAQ topic asked about (see ``read_faq``), None if nothing is asked or it is unsure."""
    return read_faq(text)[0]


_classifier: FaqClassifier | None = None
_classifier_failed = False
_training_in_background = False


def faq_classifier() -> FaqClassifier | None:
    """The FAQ classifier, trained on first use unless ``warm_up`` is training it (None meanwhile)."""
    if _classifier is None and not _classifier_failed and not _training_in_background:
        _train_classifier()
    return _classifier


def _train_classifier() -> None:
    global _classifier, _classifier_failed, _training_in_background
    try:
        _classifier = FaqClassifier.train(load_examples(), normalize=lambda t: _normalize(_nfkc(t)))
    except Exception:
        _classifier_failed = True
        logger.exception("understanding: the FAQ classifier could not be trained; questions read as 'other'")
    finally:
        _training_in_background = False


# ---------------------------------------------------------------------------
# Wants a human
# ---------------------------------------------------------------------------


def read_wants_human(text: str) -> bool:
    """True when the user asks to talk to a person (phone, staff, consultation)."""
    for n, m in enumerate(HUMAN_CHANNEL.finditer(text)):
        if n >= MAX_HITS:
            break
        before = text[max(0, m.start() - 6): m.start()]
        if HUMAN_NOT_MINE_BEFORE.search(before):
            continue
        after = _clause_after(text, m.end(), len(text))
        desire = HUMAN_DESIRE.search(after)
        if not desire:
            continue
        if HUMAN_NEGATION.search(after[: desire.end() + 4]):
            continue
        return True
    return False


# ---------------------------------------------------------------------------
# Dates (ja-timex)
# ---------------------------------------------------------------------------

_local = threading.local()


def _parser():
    """One TimexParser per thread: it keeps per-call state and is not thread-safe."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        from ja_timex import TimexParser
        from ja_timex.extract_filter import DecimalFilter, NumexpFilter, PartialNumFilter, PartialPhraseFilter
        from ja_timex.number_normalizer import NumberNormalizer
        from ja_timex.tagger import AbstimeTagger, DurationTagger, ReltimeTagger, SetTagger

        parser = TimexParser(
            number_normalizer=NumberNormalizer(),
            abstime_tagger=AbstimeTagger(),
            duration_tagger=DurationTagger(),
            reltime_tagger=ReltimeTagger(),
            set_tagger=SetTagger(patterns=[]),  # 「毎月」 etc. are never calendar dates
            pattern_filters=[NumexpFilter(), PartialNumFilter(), DecimalFilter(), PartialPhraseFilter()],
        )
        _local.parser = parser
    return parser


def _date_windows(plain: str) -> str:
    """Only the bits around date cues, joined; keeps ja-timex fast and safe on long input."""
    text = re.sub(r"[ \t]+", "", plain)
    text = re.sub(r"\d{9,}", "#", text)  # long digit runs make ja-timex's regexes blow up
    text = SHORT_RANGE_END.sub(r"\1\2月\3日", text)
    spans: list[list[int]] = []
    for m in DATE_CUE.finditer(text):
        s, e = max(0, m.start() - 14), min(len(text), m.end() + 14)
        if spans and s <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], e)
        else:
            spans.append([s, e])
        if sum(b - a for a, b in spans) >= MAX_DATE_CHARS:
            break
    return "。".join(text[a:b] for a, b in spans)[:MAX_DATE_CHARS]


def read_dates(plain: str, today: dt.date) -> list[dt.date]:
    """Every calendar date mentioned, in order of mention, without repeats."""
    window = _date_windows(plain)
    if not window:
        return []
    try:
        timexes = sorted(_parser().parse(window), key=lambda t: t.span[0])
    except Exception:
        logger.exception("understanding: ja-timex failed")
        return []
    dates: list[dt.date] = []
    prev = None  # (timex, resolved date or None)
    anchor = None  # the last date written with its year: the year-less ones after it share it
    for t in timexes:
        resolved = _resolve(t, prev, window, today, anchor)
        if resolved is not None and resolved not in dates:
            dates.append(resolved)
        if resolved is not None and t.type == "DATE" and (t.value or "")[:4].isdigit():
            anchor = resolved
        prev = (t, resolved)
    return dates


_DATE_VALUE = re.compile(r"^(\d{4}|XXXX)-(\d{2}|XX)-(\d{2}|XX)$")
_WEEK_VALUE = re.compile(r"^XXXX-WXX-([1-7])$")
_SPAN_VALUE = re.compile(r"^P(\d+(?:\.\d+)?)([DWMY])$")


def _resolve(t, prev, window: str, today: dt.date, anchor: dt.date | None = None) -> dt.date | None:
    if t.type == "DATE":
        m = _DATE_VALUE.match(t.value or "")
        if m:
            return _resolve_date(m, t, prev, window, today, anchor)
        w = _WEEK_VALUE.match(t.value or "")
        if w and prev is not None and _adjacent(prev[0], t, window):
            offset = {"来週": 7, "今週": 0, "再来週": 14}.get(prev[0].text)
            if offset is not None:
                monday = today - dt.timedelta(days=today.weekday())
                return monday + dt.timedelta(days=offset + int(w.group(1)) - 1)
        return None
    if t.type == "DURATION" and t.mod in ("AFTER", "BEFORE"):
        m = _SPAN_VALUE.match(t.value or "")
        if not m or m.group(2) not in "DW":
            return None
        text = t.text or ""
        # 「来週」「先週」 alone are not a day; 「2週間後」「3日前」「明日」「昨日」 are
        if not (text.endswith(("後", "前")) or text in ("明日", "明後日", "昨日", "一昨日")):
            return None
        days = float(m.group(1)) * (7 if m.group(2) == "W" else 1)
        if days != int(days) or days > 3660:
            return None
        delta = dt.timedelta(days=int(days))
        return today + delta if t.mod == "AFTER" else today - delta
    return None


def _adjacent(a, b, window: str, joins: re.Pattern[str] | None = None) -> bool:
    between = window[a.span[1]: b.span[0]]
    if joins is not None:
        return bool(joins.match(between))
    return between in ("", "の")


def _resolve_date(
    m: re.Match[str], t, prev, window: str, today: dt.date, anchor: dt.date | None = None
) -> dt.date | None:
    year, month, day = m.groups()
    if day == "XX":
        return None  # 「3月」 alone is not a calendar date
    d = int(day)
    if month != "XX":
        mo = int(month)
        if year != "XXXX":
            y = int(year)
            return _safe_date(y + 2000 if y < 100 else y, mo, d)
        if anchor is not None:  # 「令和9年2月3日から2月10日まで、開札は2月17日」
            return _shared_year(anchor, mo, d)
        after = window[t.span[1]: t.span[1] + 16]
        before = window[max(0, t.span[0] - 12): t.span[0]]
        return _yearless(mo, d, today, past=bool(PAST_AFTER.match(after)), court=bool(COURT_DATE_BEFORE.search(before)))
    # day only: 「来月15日」「今月20日」, or the end of a range 「12月1日〜8日」
    if prev is None:
        return None
    p, p_date = prev
    if p.type == "DURATION" and _adjacent(p, t, window):
        offset = {"今月": 0, "来月": 1, "再来月": 2}.get(p.text)
        if offset is None:
            return None
        total = today.year * 12 + today.month - 1 + offset
        return _safe_date(total // 12, total % 12 + 1, d)
    if p_date is not None and _adjacent(p, t, window, RANGE_JOIN):
        total = p_date.year * 12 + p_date.month - 1 + (1 if d < p_date.day else 0)
        return _safe_date(total // 12, total % 12 + 1, d)
    return None


def _shared_year(anchor: dt.date, month: int, day: int) -> dt.date | None:
    """A year-less date after one written with its year: the same year, or the next across New Year."""
    candidate = _safe_date(anchor.year, month, day)
    if candidate is not None and candidate < anchor - dt.timedelta(days=31):
        candidate = _safe_date(anchor.year + 1, month, day)
    return candidate


def _yearless(month: int, day: int, today: dt.date, past: bool = False, court: bool = False) -> dt.date | None:
    """The next occurrence, unless the day was less than 30 days ago (a letter just received).

    Said in the past tense (「開札は10月20日に終わりました」): the last occurrence. A court date
    (開札, 入札) is never half a year ahead without a year: it is the one that passed."""
    if past:
        for year in (today.year, today.year - 1):
            candidate = _safe_date(year, month, day)
            if candidate is not None and candidate <= today:
                return candidate
        return None
    floor = today - dt.timedelta(days=YEARLESS_LOOKBACK_DAYS)
    for year in (today.year - 1, today.year, today.year + 1, today.year + 2):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate >= floor:
            if court and candidate > today + dt.timedelta(days=COURT_DATE_MAX_AHEAD_DAYS):
                earlier = _safe_date(year - 1, month, day)
                if earlier is not None and earlier <= today:
                    return earlier
            return candidate
    return None


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    if not (1900 <= year <= 2200):
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
