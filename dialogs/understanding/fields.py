"""The facts of the case in a free message: arrears, co-ownership, guarantor (the loan's and the
person's own role), divorce, the official letters (and a tax seizure), a wish to talk to a person."""
from __future__ import annotations

import datetime as dt
import logging
import re
from bisect import bisect_left
from typing import Literal

from dialogs.understanding.faq import _is_question
from dialogs.understanding.normalize import (
    ME,
    MAX_ARREARS_MONTHS,
    MAX_HITS,
    SENTENCE_KEEP_LINES,
    _clause_after,
    _clause_before,
    _number,
    _sentences,
)

logger = logging.getLogger(__name__)



Divorce = Literal["none", "in_progress", "done"]

# ---------------------------------------------------------------------------
# Arrears
# ---------------------------------------------------------------------------

_NUM = r"(?:\d{1,3}(?:\.\d)?|[〇一二三四五六七八九十]{1,3})"
DURATION = re.compile(
    rf"(?<![\d.])(?:(?P<y>{_NUM})年(?P<yh>半)?(?:(?P<ym>{_NUM})ヶ月)?"
    rf"|(?P<half>半年)"
    rf"|(?P<m>{_NUM})ヶ月(?P<mh>半)?"
    rf"|(?P<k>{_NUM})回(?P<kb>分)?"
    # 「2週間」「10日ほど」 late: one instalment behind (a payment is monthly)
    rf"|(?P<w>{_NUM})週間|(?P<d>{_NUM})日(?:間|ほど|くらい|ぐらい)|(?P<hm>半月))"
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
    r"滞納|延滞|滞っ|滞り|滞らせ|未払|未納|遅延|遅れて|遅れた|遅れてい|溜ま|溜め|たまっ|ためて|ためちゃ"
    r"|(?:入金|返済|支払い?|振込|振り込み)(?:を|は)?し(?:て)?(?:い|おり)?(?:ない|ません|ず)"
    r"|返して(?:い|おり)?(?:な|ませ)"
    r"|払え(?:て)?(?:い)?(?:な|ず|ませ)|払って(?:い)?(?:な|ませ)|払えなかっ|払わな(?:く|かっ)|払わない(?!と|で|よう)|払ってくれな"
    r"|(?:支払|返済|入金|引落|引き落とし|引落し)(?:い|し)?(?:が|を|は)?(?:でき|出来|され)(?:て)?(?:い)?(?:な|ず|ませ)"
    r"|(?:返済|支払い?|入金|引き?落とし)(?:が|を|は)?[^。!?\n]{0,8}?(?:でき|出来)(?:て)?(?:い)?(?:な|ず|ませ)"
    r"|引き?落と?せ(?:て)?(?:い)?(?:な|ず|ませ)|落ちて(?:い)?(?:な|ませ)|落ちなかっ|返せ(?:て)?(?:い)?(?:な|ず|ませ)"
    r"|(?:返済|支払い?|入金|引き?落とし)(?:が|は)?(?:止まっ|ストップし)"
    # 「4月から止まってます」「1年ほど止まっている」: stopped, said of the payments (not of an income)
    r"|止ま(?:って|った|ったまま)"
    # 「3ヶ月遅れで督促状が」「ローンを半年放置してしまった」
    r"|遅れ(?:で|に|が|の状態)|放置し"
)
#: Before a bare 「止まって」: what stopped is not the payments.
STOPPED_NOT_PAYMENTS_BEFORE = re.compile(r"(?:給料|給与|収入|仕事|工事|年金|手当|振込|振り込み|入金|電気|ガス|水道)[^。!?\n、]{0,4}$")
#: 「ボーナス払いの分だけ払えませんでした」: the bonus instalment, one payment behind.
BONUS_INSTALMENT = re.compile(r"ボーナス(?:払い|月|時|分|の(?:分|月|返済|支払い?))")
#: Right after an arrears keyword: it is negated (「滞納はしていない」).
ARREARS_KEYWORD_NEGATED_AFTER = re.compile(
    r"^(?:は|も|とか)?(?:まだ|一度も|一回も)?(?:して|し|したこと(?:は|が)?)?(?:い|おり)?(?:ない|ません|ありません|なし|無し|ゼロ|0)"
)
#: Arrears keyword followed by a conditional: 「3ヶ月滞納したら」 is a question, not a fact.
ARREARS_HYPOTHETICAL_AFTER = re.compile(r"^(?:し|が)?(?:たら|すると|すれば|になったら|になると|が続くと|続いたら|した場合|する場合|の場合)")
#: Statements that there are no arrears.
NO_ARREARS = re.compile(
    r"(?:滞納|延滞)(?:は|も|とか)?(?:まだ|今のところ|いまのところ|今は|現在|特に|これまで|今まで)?(?:一度も|一回も)?(?:して(?:い|おり)?(?:ない|ません)|したことが?(?:ない|ありません)|ありません|ない(?:です)?(?:が|けど|けれど|し|[、,。!?\n]|$)|なし|無し|ゼロ)"
    r"|(?:払え|支払え|返済でき|返済出来)て(?:い|おり)?(?:る|ます(?!ん)|て[、,])"
    r"|(?:ローン|返済|支払い?|毎月|月々|引き?落とし|何とか|なんとか|どうにか|ちゃんと|きちんと|ギリギリ|ぎりぎり)(?:は|も|を)?"
    r"(?:(?!保証)[^。!?\n、]){0,8}?(?:払っ|支払っ|返済し|でき|出来)て(?:い|おり)?(?:る|ます(?!ん))"
    r"|(?:返済|支払い?)(?:は|も|を)?(?:毎月|ちゃんと|きちんと|いつも|普通に){0,2}し(?:て)(?:い|おり)?(?:る|ます(?!ん))"
    r"|^(?:払っ|支払っ)て(?:い|おり)?(?:る|ます(?!ん))"
    r"|遅れ(?:ず|ること(?:は|も)?なく|なく)(?:に)?|滞りなく"
    r"|遅れ(?:て|は)(?:い|おり)?(?:ない|ません)"
    r"|遅れ(?:は|も|たことは)?(?:一度も|一回も|まだ|特に)?(?:ない|ありません|なし)"
    r"|滞っ(?:て|たこと(?:は|が)?)(?:い|おり)?(?:ない|ません)"
    r"|遅れたこと(?:は|が)?(?:まだ|これまで|今まで)?(?:一度も|一回も)?(?:ない|ありません)"
    r"|(?:一度も|一回も)(?:遅れ|滞納し|延滞し|滞っ|遅延し)(?:て|た)?(?:い|おり|こと(?:は|が)?)?(?:ない|ません|ありません)"
)
#: Words that carry no information when someone just answers 「4ヶ月」.
BARE_ANSWER_FILLER = re.compile(
    r"やっぱり|やはり|たぶん|多分|だいたい|大体|およそ|約|くらい|ぐらい|位|程度|ほど|以上|ちょっと|すでに|既に"
    r"|今で|現在|もう|今は|今|です|でした|ですね|になります|なります|ですかね|かな|かと|思います|と思う|はい|えっと|えーと|うーん"
    r"|滞納|延滞|目|分|ね|よ|で|弱|強|ええ|あ|中"
)
PAST_MONTH_START = re.compile(r"(?P<rel>先々月|先月|今月)(?:分)?(?:から|の(?:分|返済|支払い?|引き?落とし)|分)?")
MONTH_START = re.compile(r"(?<![\d/.年])(?P<last>去年の?|昨年の?)?(?P<mon>\d{1,2})月(?:分|ごろ|頃|くらい|ぐらい)?から")


# ---------------------------------------------------------------------------
# Co-ownership, guarantor, divorce
# ---------------------------------------------------------------------------

_FAMILY = r"(?:夫|妻|主人|旦那|嫁|奥さん|家内|父|母|父親|母親|親|兄|弟|姉|妹|息子|娘|義父|義母|彼|彼女|元夫|元妻|配偶者)"
_ME = ME
#: Anyone the writer may name as a guarantor or co-owner, 「義理の」 or not.
_PERSON = (rf"(?:義理の)?(?:{_FAMILY}|兄弟|姉妹|いとこ|従兄弟|叔父|伯父|叔母|伯母|おじ|おば|祖父|祖母|親戚|親族"
           r"|友人|友達|知人|知り合い|上司|同僚|社長|会社の人|義兄|義姉|義弟|義妹)")
#: Who holds the title: 名義, 名義人, 所有者, 持ち主 (「登記上の」 or not).
_HOLDER = r"(?:登記(?:上)?の)?(?:名義人?|所有者|持ち主|登記)"

CO_OWNED_NEGATED_SINGLE = re.compile(r"単独(?:名義)?(?:では|じゃ)(?:ない|なく|ありません)")
CO_OWNED_NO = re.compile(
    r"共有(?:名義)?(?:では|じゃ|で|は)(?:は)?(?:ない|なく|ありません)"
    rf"|単独(?:名義|所有|で)|(?<![と共])(?:{_ME}|{_FAMILY})(?:だけ|のみ|一人|ひとり|単独)(?:の)?名義"
    rf"|{_HOLDER}(?:は|も|:)?(?:全部|すべて|全て)?(?:{_ME}|{_FAMILY})(?:だけ|のみ|一人|ひとり|単独|です|。|$|\n)"
    # 「共有者はいません」「共有している人はいない」「他に名義人はいません」: no co-owner
    r"|共有(?:者|している人|する人|の相手)(?:は|も)?(?:特に)?(?:い|居|おり)(?:ない|ません)"
    r"|(?:他に|ほかに)?(?:名義人|共有者|所有者)(?:は|が)?(?:他に|ほかに)?(?:い|居|おり)(?:ない|ません)"
    rf"|名義は{_ME}ひとり|一人の名義"
    rf"|(?<![と共])(?:{_FAMILY}|{_ME})(?:の)?名義(?:です|だ|で|。|$|\n|の家|になって|のまま|だけ|のみ)"
)
CO_OWNED_YES = re.compile(
    r"(?<!情報)(?<!データ)(?<!画面)共有(?!して(?:くだ|くれ|ほし))|夫婦(?:の|で|共同|共有)?名義|名義(?:は|が)?(?:夫婦|ふたり|二人|2人|両方|共同)"
    rf"|ペアローン|連名|持分|持ち分"
    rf"|{_FAMILY}(?:と|との)(?:{_ME})?(?:の)?(?:二人|2人|ふたり|共同|共有|連名)?(?:の)?名義"
    rf"|名義(?:は|が)?{_FAMILY}と{_ME}|{_ME}と{_FAMILY}(?:の)?(?:二人|2人|ふたり|共同|共有)?(?:の)?名義"
    rf"|二人(?:の)?名義|2人(?:の)?名義|ふたり(?:の)?名義"
    r"|(?:半分|半々|折半)(?:ずつ)?(?:の)?(?:名義|持|所有|で買|で購入)"
    # 「家は妻と半分ずつです」「母と私で半々」「兄と二人で相続した家」
    rf"|(?:{_PERSON}|{_ME})と(?:{_PERSON}|{_ME})?(?:で|の)?(?:半分|半々|折半)"
    rf"|(?:{_PERSON})と(?:二人|2人|ふたり|一緒に|共同)?(?:で)?相続"
    rf"|(?:{_PERSON})と(?:二人|2人|ふたり|一緒|共同)で(?:持|所有|買|購入)"
    rf"|(?:{_PERSON}|{_ME})と(?:{_PERSON}|{_ME})の?(?:二人|2人|ふたり)|(?:二人|2人|ふたり|夫婦|両方)の名前"
    r"|名義(?:は|も)?(?:半分|半々)"
    # 「兄弟三人で相続した」「共同で持っています」
    r"|(?:二人|三人|四人|[2-9]人|ふたり|兄弟|姉妹|きょうだい)(?:で|の)?(?:共同)?(?:で)?相続|共同で(?:持|所有|相続|購入|買)"
)

GUARANTOR_NO = re.compile(
    r"保証人(?:は|が|を|も|とか|なんて|なんか)?(?:特に|誰も|だれも|一人も)?(?:つけ|付け|立て|つい|付い|い|居|おり|頼ん)(?:て)?(?:い|お)?"
    r"(?:ない|ません|なかった|ませんでした|ず|なく|ねー)"
    r"|保証人(?:は|が|も|とか)?(?:特に)?(?:い|居|おり)(?:ない|ません|なく|ねー)"
    r"|保証人(?:は|が)?(?:なし|無し|不要|いらない|ついて(?:い)?ない|付いて(?:い)?ない|つけて(?:い)?ない|付けて(?:い)?ない|立てて(?:い)?ない|ついてません|つけてません|立ててません)"
    r"|保証人を?(?:つけ|付け|立て)(?:て)?(?:い)?(?:ない|ません|ず)"
    r"|保証人(?:なし|無し)"
    r"|保証人(?:は|が)?(?:いらなかった|要らなかった|必要(?:が)?(?:なかった|ありませんでした|ない)|不要(?:だった|でした))"
    # 「保証人には誰にもなってもらってない」「誰にも頼んでいません」
    r"|保証人[^。!?\n]{0,4}?(?:誰|だれ)(?:にも|も)[^。!?\n]{0,12}?(?:ない|ません|なかった)"
)
GUARANTOR_YES = re.compile(
    r"保証人(?:が|は|も)?(?:い(?:る|ます)|居(?:る|ます)|つい|付い|おり|あり|つき|付き)"
    rf"|{_PERSON}(?:が|は|を|に)(?:連帯)?保証人"
    rf"|保証人(?:は|が|には)(?:{_ME}の)?(?:{_PERSON})"
    # 「社長に保証人を頼みました」「知り合いに保証人をお願いしました」
    r"|保証人を(?:頼み|頼んだ|頼んで(?!(?:い)?(?:ない|ません))|お願いし(?!て(?:い)?(?:ない|ません)))"
    r"|(?:連帯)?保証人に(?:なって|なってもらっ|なってくれ)"
    rf"|(?:{_FAMILY}|友人|知人)(?:の|を)(?:連帯)?保証人"
    rf"|保証人(?:の|である|をしている|をしてる|してる)(?:{_FAMILY}|友人|知人)"
    # 「保証人は私じゃなくて父です」: someone else is
    rf"|保証人(?:は|が)[^。!?\n]{{0,10}}?(?:では|じゃ)(?:なく|ない)(?:て|で)?[、,]?(?:{_PERSON})"
)
GUARANTOR_HYPOTHETICAL_AFTER = re.compile(r"^(?:と(?!して|か|は)|場合|なら|たら|とき|時|かどうか|か(?:は|も)?(?:分|わか|不明|知ら))")
#: The writer is the guarantor: 「私が連帯保証人」「保証人は私です」「保証人になってるのは自分」.
GUARANTOR_SELF_YES = re.compile(
    rf"{_ME}(?:は|が|も|こそ|って|、|,)[^。!?\n、]{{0,12}}?(?:連帯)?保証(?:人|し|を)"
    r"(?!(?:が|は|も)(?:い|居|おり|あり|な|つ|付)|を(?:つけ|付け|立て|探|頼|お願い))"
    rf"|(?:連帯)?保証(?:人)?(?:は|って|なのは|に(?:なって|なっ)(?:い)?る(?:の|ん)は|を(?:して)?(?:い)?る(?:の|ん)は|したのは)[、,]?(?:実は)?{_ME}(?!の|では|じゃ)"
)
#: 「夫のローンの保証人をしてます」: someone's loan, and no other subject: the writer.
GUARANTOR_FOR_OTHER = re.compile(
    rf"(?:{_FAMILY}|友人|知人|会社|社長|兄弟)(?:さん)?の(?:住宅|家の|車の|会社の|事業の)?(?:ローン|借金|借入|借り入れ|債務)?の?(?:連帯)?保証人"
    r"|(?:連帯)?保証人を(?:引き受け|頼まれ|している|してる|しています|してます|しており|やって)"
    r"|連帯保証(?:を)?(?:している|してる|しています|してます|しており|した)"
)
#: A subject other than the writer before the guarantor word: 「妻が」「父は」「兄に(なってもらった)」.
GUARANTOR_OTHER_SUBJECT = re.compile(rf"{_FAMILY}(?:さん)?(?:が|は|に|も)|(?:友人|知人|社長)(?:が|は|に)")
#: The writer says they are not a guarantor.
GUARANTOR_SELF_NO = re.compile(
    rf"{_ME}(?:は|が)?(?:連帯)?保証人(?:なんか|なんて|とか)?(?:では|じゃ)(?:ない|なく|ありません)"
    rf"|{_ME}(?:は|が)[^。!?\n]{{0,16}}?(?:連帯)?保証人(?:なんか|なんて|とか)?(?:では|じゃ)(?:ない|なく|ありません)"
    rf"|{_ME}(?:は|が)[^。!?\n]{{0,16}}?(?:連帯)?保証人でも[^。!?\n]{{0,8}}?(?:ない|ありません)"
    rf"|{_ME}(?:は|が)(?:連帯)?保証人に(?:は)?な(?:って|っては)(?:い)?(?:ない|ません)"
    rf"|保証人(?:は|が){_ME}(?:では|じゃ)(?:ない|なく|ありません)"
    # 「保証人は主人で、私は違います」「連帯保証人は妻で、自分ではありません」
    rf"|保証人(?:は|が){_PERSON}(?:さん)?(?:で|です)[、,。]?{_ME}(?:は|が)?(?:違|ちが|ではな|じゃな|ではあり)"
    # a sentence or clause that starts with it has the writer as its subject: 「…連帯債務者です。
    # 保証人ではありません」「連帯債務で組んだので、保証人ではないです」 (not after 「夫は」: see read_guarantor_self)
    r"|(?:^|[。!?\n、,])(?:連帯)?保証人(?:なんか|なんて|とか)?(?:では|じゃ)(?:ない|なく|ありません)"
)

DIVORCE_NONE = re.compile(
    r"離婚(?:は|も|とか|なんて|なんか|など)?(?:して|し)(?:い|おり)?(?:ない|ません)(?!と|か|ように|ため|場合)"
    r"|離婚(?:は|とか|とかは|とは|の話は|の予定は|する予定は|するつもりは|は特に)?(?:特に)?(?:関係|無関係|予定|つもり)?(?:は|も)?(?:ない|なく|ありません|なし|無し)"
    r"|離婚(?:は|とか|とは|とかは|も)?(?:関係|無関係)|離婚(?:は)?しない"
    # 「離婚とかではないです」「離婚とかそういう話はないです」
    r"|離婚(?:とか|なんて|など)?(?:では|じゃ)(?:ない|なく|ありません)"
    r"|離婚(?:とか|なんて|など)?[^。!?\n、]{0,6}?(?:話|予定|つもり|考え)(?:は|も)(?:特に)?(?:ない|なく|ありません|なし)"
    r"|離婚(?:は|も|とか)?(?:全く|まったく|特に)?(?:考え|予定し|するつもり)(?:て)?(?:い|おり)?(?:ない|ません)"
)
DIVORCE_DONE = re.compile(
    r"離婚(?:した(?![らいく])|しました|しています|している|してる|しており|済|が成立|成立|届を出し|届けを出し|が決まった|が決まりました)"
    r"|離婚して(?!ほし|欲し|くれ|も(?!う)|ない|いない|ません|いません|たら|もらい)"
    r"|元(?:妻|夫|嫁|旦那|配偶者|奥さん|主人|ダンナ)|前(?:妻|夫)(?!の?名義)|バツイチ|ばついち|(?:バツ|ばつ)[1-9一二三]|別れた(?:妻|夫|嫁|旦那)"
    r"|前の(?:妻|夫|奥さん|旦那|主人|嫁|配偶者|家内)|離婚届(?:は|を|も)?(?:もう|既に|すでに)?(?:出し|提出し)(?:た|まし|て(?:い|あ))"
)
#: Separated: on the way to a divorce, as far as the advice goes (both must still agree to sell).
DIVORCE_SEPARATED = re.compile(
    r"別居(?:中|して(?!(?:い|お)?(?:ない|ません)|たら)|してる|を始め|にな|(?:の|みたいな|のような)?(?:状態|生活))|家庭内別居"
    # 「妻とは今別々に暮らしています」
    r"|(?:夫|妻|主人|旦那|だんな|嫁|奥さん|家内|配偶者|パートナー)(?:さん)?(?:と|とは)[^。!?\n、]{0,6}?別々に(?:暮らし|住ん|生活)"
    # 「妻が出ていって、今は別々に生活しています」: a spouse in the sentence, living apart
    r"|(?:夫|妻|主人|旦那|嫁|奥さん|家内|配偶者|パートナー)[^。!?\n]{0,16}?別々に(?:暮らし|住ん|生活)"
)
#: Never married: divorce does not apply.
DIVORCE_SINGLE = re.compile(r"独身|未婚|結婚(?:は)?(?:して|し)(?:い|おり)?(?:ない|ません)|結婚歴(?:は)?(?:ない|なし|ありません)|独り身|一人身")
#: 「夫と別れました」「妻とは別れることになりそう」: parting from a spouse is 離婚 in other words.
PARTED = re.compile(
    r"((?:夫|妻|主人|旦那|だんな|嫁|奥さん|家内|配偶者|パートナー)(?:さん)?(?:と|とは)[^。!?\n、]{0,8}?)"
    r"別れ(ること|る|たい|た|て|まし|よう|そう)"
)
#: Parted some time ago, the spouse named elsewhere in the message: 「…、3年前に別れました」.
SPOUSE = re.compile(r"夫|妻|主人|旦那|嫁|奥さん|家内|配偶者")
PARTED_LONG_AGO = re.compile(r"(?:年|ヶ月|月)前に別れ|(?:去年|昨年|もう|すでに|既に|とっくに)別れ(?:た|まし|てい)")
#: 「離婚はまだ成立していません」: on the way (never "none": a divorce is under way).
DIVORCE_NOT_FINAL = re.compile(r"離婚(?:は|が)?(?:まだ)?(?:成立|確定)(?:して|し)?(?:い|おり)?(?:ない|ません|せず|ず)")
DIVORCE_HYPOTHETICAL_AFTER = re.compile(r"^(?:ら|場合|とき|時|なら|後の?どう)")
DIVORCE_IN_PROGRESS = re.compile(
    r"離婚(?:協議|調停|裁判|訴訟|の話|話|を考え|を検討|検討|予定|するかも|しそう|しようと|する(?:こと|予定|方向|つもり|かも)"
    r"|寸前|間近|手続|の手続|準備|届を?(?:出す|書い)|すると思|する見込み|する見通し|を切り出|を迫|を言い渡|を言われ|したい|してほし|して欲し|してくれ|を求め|前提|に向け|の危機|危機|が決まりそう|になりそう|することにな|に向か)"
    r"|(?:協議|調停)中"
    # 「離婚を争っている」「離婚について裁判中」「離婚はもう決めていて」「離婚届はまだ出してない」
    r"|離婚(?:を|について|のことで|で)(?:争|裁判|調停|協議|話し合|もめ|揉め)"
    r"|離婚(?:は|を|すると)?(?:もう)?決め(?:て|た|まし)"
    r"|離婚(?:する|した方がいい)?か(?:どうか|否か)"  # 「離婚するかどうか話し合っています」
    r"|離婚届(?:は|を)?(?:まだ)?(?:出して|提出して|出せて)(?:い)?(?:ない|ません)"
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
        # told by what it says: 「分割で払う権利がなくなった」「残金を一度に払うように」
        r"|分割(?:で|払い|返済)?[^。!?\n]{0,8}?(?:権利|でき|出来)[^。!?\n]{0,4}?(?:なくな|失|喪失)"
        r"|一括[^。!?\n]{0,6}?(?:返|払|支払|返済)(?:す|う|する)?(?:よう|ように)"
        r"|(?:残り|残金|残額|全額|残債)(?:を|は)?(?:全部)?(?:一度に|まとめて|すぐに|一気に)(?:払|返|支払)"
    ),
    "subrogation": re.compile(
        r"代位弁済|求償(?:権|債権)"  # the guarantee company's claim once it has paid the bank
        r"|保証会社[^。!?\n]{0,8}?(?:立て替|立替|代わりに|肩代わり|代位|弁済)"
        # told by what it says, the company by its name: 「○○信用保証から、銀行に代わって全額を払ったと」
        r"|(?:保証|銀行|金融機関)[^。!?\n]{0,16}?(?:に代わって|に代わり|の代わりに|にかわって|のかわりに|立て替え|立替え?)"
        r"[^。!?\n]{0,10}?(?:払|支払|返済|弁済)"
        r"|保証会社(?:が|から|に|は)?(?:の)?(?:一括|請求|督促|通知|手紙|書類|連絡|電話)"
        r"|(?:債権者|債権|ローン)(?:が|は)?(?:保証会社|サービサー|債権回収会社)(?:に|へ)(?:移|譲渡|うつ|変わ|かわ)"
        r"|サービサー|債権回収会社|住宅債権管理回収機構"
        # 「今後は当社へ支払ってください」 from the guarantee company: it paid the bank and now collects
        r"|(?:保証会社|当社|弊社)(?:へ|に)(?:の)?(?:支払|払|返済)"
    ),
    "auction_start": re.compile(
        r"競売開始決定|開始決定|担保不動産競売|競売(?:の)?(?:申し?立て?|申立)|差押"
        r"|競売(?:の|に関する)?(?:通知|書類|手紙|決定|開始|お知らせ|通告)"
        r"|競売にかけられ|競売が(?:始ま|決ま|開始)|競売にな(?:った|りました|っている|ってる|ってしまっ)"
        r"|競売を(?:始め|開始)"
        # told by what the envelope said: 「競売って書かれた封筒が裁判所から」
        r"|競売(?:って|と)(?:書か|書い|いう|言う|記載)"
    ),
    "site_inspection": re.compile(
        r"現況調査|執行官|評価人"
        # told by what it said: 「裁判所から家を見に来るって」「裁判所の人が家の中を見に来る」
        r"|裁判所[^。!?\n]{0,20}?(?:見|調べ|調査し|撮影し|写真を撮り|撮り)に(?:来|く)"
        # 「先週、裁判所の人が家に来て、写真を撮っていきました」: the visit itself
        r"|裁判所の(?:人|職員|方|係の人)(?:が|たち|達)?[^。!?\n]{0,8}?(?:来|き)(?:て|た|まし)"
    ),
    "bid_notice": re.compile(
        r"期間入札|入札期間|入札(?:の)?(?:期間|通知|日|期日|開始|お知らせ|日程)|入札[^。!?\n]{0,12}?始ま|開札|売却基準価額|買受可能価額|売却決定期日|売却許可決定"
    ),
    # a public sale by the tax office or town hall: it follows their seizure (read_notices_and_tax)
    "tax_seizure": re.compile(r"公売|滞納処分"),
    # the auction is over: sold at 開札 (「もう落札されたと聞きました」「開札は終わりました」); not a
    # letter but the stage after every letter (read_notices_and_tax); a negation after it
    # (「まだ落札されていない」) as for the letters
    "auction_over": re.compile(
        r"落札(?=され|が決ま|者が|して(?:しま|いっ)|になっ)|開札(?:日)?(?:が|は|も)?(?=終わ|おわ|済|すみ|すん)"
        r"|競売で(?=売れ|落札|買われ)|買受人が(?=決ま|つい)"
    ),
}
#: what NOTICE_TERMS reads besides the lender's and the court's letters (assessment.NOTICES)
NOT_LETTERS = frozenset({"tax_seizure", "auction_over"})
#: 「督促状しか来ていない」: "only", not a negation.
ONLY_AFTER = re.compile(r"^(?:状|書|通知書?)?(?:だけ)?しか")
#: Who seized: a tax authority (公売 path, not an auction by the lender) ...
TAX_AUTHORITY = re.compile(
    r"市役所|区役所|町役場|村役場|役場|役所|税務署|(?<!非課)税(?:金)?(?!理士)|自治体|国民健康保険|国保|保険料"
    r"|年金事務所|社会保険料|滞納処分|納税|税務課|収納課|徴収|(?<![a-z])(?:市|区|町|村)(?:から|が|に|の)"
)
#: ... or the lender's side (a 競売).
LOAN_AUTHORITY = re.compile(r"銀行|保証会社|裁判所|債権者|金融機関|機構|ローン|サービサー|債権回収|競売|抵当")
#: Right after a notice word: it has not come (「競売の通知はまだ来ていない」).
NOTICE_NEGATED_AFTER = re.compile(
    r"(?:来|き|届い|もらっ|貰っ|受け取っ|送られてき|送ってき|出|なっ|され)て(?:い|おり)?(?:ない|ません|ねー|へん)"
    r"|(?:され|られ)て(?:は|も)(?:い|おり)?(?:ない|ません)"  # 「まだ差し押さえられてはいません」
    r"|(?:来|こ|届か|き)(?:ない|ません|ず)"
    r"|^(?:は|も|とか|など|なんか|の通知|の通知は|の書類は)?(?:まだ)?(?:ない|無い|なし|無し|ありません|来ない|届かない|きてない)"
    r"|まだ(?:です|だ|$)|(?:は|も)まだ"
    r"|^(?:は|も)?(?:では|じゃ)(?:ない|なく|ありません)"  # 「税金の差押えではありません」
)
#: Right after a notice word: it is only a warning, a plan, a condition or a definition question.
NOTICE_WARNING_AFTER = re.compile(
    r"予告|予定|恐れ|おそれ|可能性|かも|場合|前に|前の|手前|警告|ことにな(?!った|りまし|って)|ことがある|(?:され|なり|来|き|し|始まり|届き)そう"
    r"|(?:来|き|届|され|なっ|し|出|で)たら(?!し)|って(?:何|なに|なん|どう)|とは|というのは|ってどういう|の意味|って本当|ってほんと"
    r"|を避け|を回避|にならない|されない|しない(?:よう|ため)|される(?:の|か|$)|になるの|なる(?:の|か)\?"
    r"|避けたい|前段階|(?:来る|届く|くる|なる)(?:まで|の\?|のか|んですか|か\?)|防"
)
#: Right after 差押: said as a threat (「差し押さえるぞ」「差し押さえると言ってきた」), not done.
SEIZURE_THREAT_AFTER = re.compile(r"(?:る|します|する)(?:ぞ|と|って|よ|から|かも|予定|つもり)")
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
    r"|され(?:た|まし|て)|られ(?:た|まし|て)|かけられ|決ま|終わ|入って|始ま"
    # 「開札日が12月10日なんですが…?」: a date read off the letter says it came
    r"|\d{1,2}月\d{1,2}日|\d{1,2}/\d{1,2}|(?:令和|平成|r|h)\d"
)
#: Between two notice words: a list, so both share the same negation.
NOTICE_LIST_JOIN = re.compile(r"^(?:状|書|通知書?|の?通知|の?書類)?(?:とか|や|と|も|、|,|・|または|か|の)*$")


# ---------------------------------------------------------------------------
# Wants a human
# ---------------------------------------------------------------------------

HUMAN_CHANNEL = re.compile(
    r"人と|人間|担当(?:者|の方|さん)|オペレーター?|電話|直接|相談(?!料|先|窓口)|面談|会って|専門家|スタッフ|誰か(?:と|に)|折り?返し|連絡(?=く|下|ほ|欲|を)|来て"
    # 「詳しい人に聞きたい」「わかる方に教えてもらいたい」「事務所に行って話を聞いてもらう」
    r"|(?:人|方)(?:に|と)(?=聞|相談|話|会|教え|見て|みて)|話を聞いて"
    r"|(?:事務所|店舗|お店|窓口|オフィス|会社)(?:に|へ)(?:行|伺|うかが|出向|来)"
)
HUMAN_DESIRE = re.compile(
    r"たい|ほしい|欲しい|ください|下さい|くださ|もらえ|もらい|いただけ|いただき|頂け|頂き|できます|できる\?|できるか|できませんか"
    r"|可能|お願い|希望|してくれ|話せ|かわって|代わって|代わり|乗って|のって|させて|つないで|繋いで|つなげ|番号|予約"
)
HUMAN_NEGATION = re.compile(
    r"苦手|無理|たくない|いらない|要らない|不要|結構|しないで|やめ|嫌|いや|できない|出られない|なくていい"
    r"|ません(?!か)"  # 「話を聞いてもらえませんか」 is a polite request
    r"|(?<!つ)(?<!繋)ないで(?:くだ|下さ|ほし|欲し)"  # 「電話はかけてこないでください」 (not 「つないでください」)
)
#: 「人間の方いますか?」「どなたか人はいませんか」「スタッフの方はいらっしゃいますか」: is a person there
HUMAN_PRESENCE = re.compile(
    r"(?:人間|スタッフ|担当|オペレーター?|相談員|専門家|(?<![一-龥])人)(?:の方|の人|さん)?(?:は|が|って)?"
    r"(?:い|居)(?:ますか|ませんか|る\?|るの|ないの|らっしゃいますか|らっしゃいませんか|らっしゃる)"
)
HUMAN_NOT_MINE_BEFORE = re.compile(
    r"から$|からの$|銀行の$|保証会社の$|債権者の$|裁判所の$"
    # 「ここで相談させてください」「チャットで相談したい」: this chat, not a person
    r"|(?:チャット|ここ|line|ライン|メッセージ|文字|このまま|トーク)(?:で|の中で|上で)(?:の)?$"
)


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
    if m.group("hm"):
        return 1, False
    if m.group("w") or m.group("d"):
        n = _number(m.group("w") or m.group("d"))
        days = n * 7 if m.group("w") and n is not None else n
        return (max(1, int(days // 30)) if days is not None else None), False
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
        if k.group().startswith("止ま") and STOPPED_NOT_PAYMENTS_BEFORE.search(sentence[max(0, k.start() - 10): k.start()]):
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
    if relative is None:
        relative = next((1 for _, s in sentences if _arrears_keywords(s) and BONUS_INSTALMENT.search(s)), None)
    if relative is not None:
        return relative
    for m in NO_ARREARS.finditer(text):
        start = max(text.rfind(c, 0, m.start()) for c in "。!?\n、") + 1
        if OTHER_PAYEE.search(text[start: m.start()]):
            continue  # 「固定資産税はちゃんと払ってます」: not the loan
        return 0
    return None


#: What is paid when it is not the loan.
OTHER_PAYEE = re.compile(r"税|保険|家賃|管理費|修繕積立金|携帯|カード|学費|光熱|電気|ガス|水道|養育費|慰謝料")


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
        if re.match(r"(?:い|お)?(?:ない|ません|なかった)", text[m.end(): m.end() + 6]):
            continue  # 「私は保証人になっていないです」
        return True
    return None


def read_guarantor_self(text: str) -> bool | None:
    """True when the writer is themself a (連帯)保証人 (e.g. of a spouse's loan), False when they
    say they are not, None when they do not say. Who is the subject decides, not the word alone."""
    for m in GUARANTOR_SELF_NO.finditer(text):
        if GUARANTOR_OTHER_SUBJECT.search(m.group()):  # not 「私は、妻が保証人ではなく…」
            continue
        if m.group()[:1] in "、,":  # a clause: its subject is the sentence's (「夫は債務者で、保証人ではない」)
            start = max(text.rfind(c, 0, m.start()) for c in "。!?\n") + 1
            if GUARANTOR_OTHER_SUBJECT.search(text[start: m.start()]):
                continue
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
    if reading is None and SPOUSE.search(text) and PARTED_LONG_AGO.search(text):
        return "done"  # 「妻とはもう他人です、3年前に別れました」
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
        # 「元夫と…まだ調停中で、離婚は成立していません」: an ex- word is how she calls him; the
        # divorce itself is said to be under way
        if m.group().startswith(("元", "前")) and (DIVORCE_NOT_FINAL.search(text) or DIVORCE_IN_PROGRESS.search(text)):
            return "in_progress"
        return "done"
    if DIVORCE_NOT_FINAL.search(text):
        return "in_progress"
    if DIVORCE_IN_PROGRESS.search(text):
        return "in_progress"
    return None



# ---------------------------------------------------------------------------
# Notices
# ---------------------------------------------------------------------------


def read_notices(text: str) -> set[str]:
    """Notices the user says they received; warnings, conditions and 「まだ来ていない」 excluded."""
    return read_notices_and_tax(text)[0]


def read_notices_and_tax(text: str) -> tuple[set[str], bool, bool]:
    """(notices, tax_seizure, auction_over): a 差押 by a town hall or tax office is a tax
    seizure, not a 競売開始決定; 「もう落札された」 is the auction over, not a letter."""
    found = _read_notices(text)
    return found - NOT_LETTERS, "tax_seizure" in found, "auction_over" in found


def _seizure_by(text: str, start: int, end: int) -> str:
    """"tax_seizure" when the nearest authority around a 差押 in its sentence is a tax one."""
    s = max(text.rfind(c, 0, start) for c in "。!?\n") + 1
    ends = [i for i in (text.find(c, end) for c in "。!?\n") if i != -1]
    e = min(ends) if ends else len(text)
    best: tuple[int, str] | None = None
    for pattern, kind in ((TAX_AUTHORITY, "tax_seizure"), (LOAN_AUTHORITY, "auction_start")):
        for m in pattern.finditer(text, s, e):
            if re.match(r"(?:の方)?(?:では|じゃ)(?:なく|ない|ありません)", text[m.end(): m.end() + 8]):
                continue  # 「差し押さえは税金ではなく、銀行の競売の方です」
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
        # 「今後は当社へお支払いください」: the letter's own words, not a future possibility
        quoted = notice == "subrogation" and text.startswith(("当社", "弊社"), start)
        warning[i] = bool(
            NOTICE_WARNING_AFTER.search(after.replace("予定", "") if scheduled else after)
            or (NOTICE_WARNING_BEFORE.search(before) and not quoted)
        )
        if notice == "acceleration" and _is_non_past_loss(text, start, end):
            warning[i] = True
        if text[start:end] == "差押" and SEIZURE_THREAT_AFTER.match(text, end):
            warning[i] = True  # 「差し押さえるぞと言われた」「差し押さえると言ってきた」: a threat, not done
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
    # one reading per sentence, not per hit: 60 hits in one 3,000-character sentence cost ~66 ms of CPU
    by_sentence: dict[tuple[int, int], bool] = {}
    for start, _, _ in hits:
        s = max(text.rfind(c, 0, start) for c in "。!?\n") + 1
        ends = [i for i in (text.find(c, start) for c in "。!?\n") if i != -1]
        e = min(ends) + 1 if ends else len(text)
        if (s, e) not in by_sentence:
            sentence = text[s:e]
            by_sentence[s, e] = _is_question(sentence) and not NOTICE_RECEIPT.search(sentence)
        flags.append(by_sentence[s, e])
    return flags


def _is_non_past_loss(text: str, start: int, end: int) -> bool:
    """「期限の利益を失います」「…喪失します」: the warning printed in a 督促状, not the notice."""
    tail = text[end: end + 12]
    if text[start:end].endswith("喪失"):
        tail = "喪失" + tail
    return bool(ACCELERATION_NON_PAST_AFTER.match(tail))


# ---------------------------------------------------------------------------
# Wants a human
# ---------------------------------------------------------------------------


def read_wants_human(text: str) -> bool:
    """True when the user asks to talk to a person (phone, staff, consultation)."""
    if HUMAN_PRESENCE.search(text):
        return True
    for n, m in enumerate(HUMAN_CHANNEL.finditer(text)):
        if n >= MAX_HITS:
            break
        before = text[max(0, m.start() - 6): m.start()]
        if HUMAN_NOT_MINE_BEFORE.search(before):
            continue
        if m.group() == "相談" and re.match(r"(?:し)?たい(?:こと|事|内容)", text[m.end(): m.end() + 6]):
            continue  # 「相談したいことがあります」: a matter to tell, not a wish for a person
        after = _clause_after(text, m.end(), len(text))
        desire = HUMAN_DESIRE.search(after)
        if not desire:
            continue
        if HUMAN_NEGATION.search(after[: desire.end() + 4]):
            continue
        return True
    return False
